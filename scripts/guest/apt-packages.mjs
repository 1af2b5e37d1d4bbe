// Pure helpers for reading apt's output. The calls to apt itself live in build-guest.mjs.

/** Parses `apt-cache show` output into stanzas keyed by field name (continuation lines dropped). */
export function parseAptShow(text) {
  const stanzas = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = {};
    for (const line of block.split("\n")) {
      const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
      if (m) fields[m[1]] = m[2].trim();
    }
    if (fields.Package) stanzas.push(fields);
  }
  return stanzas;
}

/** "linux-image-6.1.0-50-686 (= 6.1.176-1), foo | bar" -> ["linux-image-6.1.0-50-686", "foo"]. */
export function dependsNames(depends) {
  if (!depends) return [];
  return depends.split(",").map((alt) => alt.split("|")[0].trim().split(/\s|\(/)[0]).filter((n) => n !== "");
}

/** The file name `apt-get download` gives a package ("1:1.35" becomes "1%3a1.35"). */
export function debFileName(pkg) {
  return `${pkg.name}_${pkg.version.replaceAll(":", "%3a")}_${pkg.arch}.deb`;
}
