// Resolves which kernel modules to load, and in what order, from depmod's modules.dep.
// A hand-written list would silently go stale when Debian moves a helper (crc64-rocksoft
// appeared in a 6.1 point release), so the build always derives it.

/** "kernel/lib/crc-t10dif.ko.xz" -> "crc-t10dif" (the file's own spelling). */
export function moduleFileName(path) {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, "");
}

/** The kernel treats "-" and "_" in module names as the same character. */
export function normalizeModuleName(name) {
  return name.replaceAll("-", "_");
}

/** Parses modules.dep text into path -> direct-or-transitive dependency paths (as depmod lists them). */
export function parseModulesDep(text) {
  const deps = new Map();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon < 0) throw new Error(`modules.dep: line without ':': ${line}`);
    const path = line.slice(0, colon).trim();
    const rest = line.slice(colon + 1).trim();
    deps.set(path, rest === "" ? [] : rest.split(/\s+/));
  }
  return deps;
}

/** Parses modules.builtin (one path per line) into a set of normalized module names. */
export function parseModulesBuiltin(text) {
  const names = new Set();
  for (const line of text.split("\n")) if (line.trim() !== "") names.add(normalizeModuleName(moduleFileName(line.trim())));
  return names;
}

/**
 * Returns the module paths to insmod, dependencies first, for the wanted module names
 * (in the order asked for, each preceded by whatever it needs that is not loaded yet).
 * Names built into the kernel are skipped. Throws on an unknown name or a dependency cycle.
 */
export function resolveLoadOrder(depMap, wanted, builtin = new Set()) {
  const byName = new Map();
  for (const path of depMap.keys()) byName.set(normalizeModuleName(moduleFileName(path)), path);

  const order = [];
  const done = new Set();
  const visiting = new Set();
  const visit = (path, chain) => {
    if (done.has(path)) return;
    if (visiting.has(path)) throw new Error(`modules.dep has a cycle: ${[...chain, path].join(" -> ")}`);
    const deps = depMap.get(path);
    if (deps === undefined) throw new Error(`modules.dep lists ${path} as a dependency but has no entry for it`);
    visiting.add(path);
    // depmod lists the deepest dependencies last (modprobe loads the list back to front);
    // walking it backwards keeps that order while the recursion guarantees correctness
    // even if a list were not in that order.
    for (let i = deps.length - 1; i >= 0; i--) visit(deps[i], [...chain, path]);
    visiting.delete(path);
    done.add(path);
    order.push(path);
  };

  for (const name of wanted) {
    const key = normalizeModuleName(name);
    const path = byName.get(key);
    if (path === undefined) {
      if (builtin.has(key)) continue;
      throw new Error(`kernel module ${name} is neither in modules.dep nor built in`);
    }
    visit(path, []);
  }
  return order;
}
