import { describe, expect, it } from "vitest";
import { debFileName, dependsNames, parseAptShow } from "../../../scripts/guest/apt-packages.mjs";

const SHOW = `Package: linux-image-686
Version: 6.1.176-1
Architecture: i386
Depends: linux-image-6.1.0-50-686 (= 6.1.176-1)
Description: Linux for modern PCs (meta-package)
 This package depends on the latest Linux kernel.

Package: seabios
Version: 1.16.2-1
Architecture: all
SHA256: ${"ab".repeat(32)}
Size: 162656
`;

describe("apt output", () => {
  it("parses stanzas and skips description continuation lines", () => {
    const s = parseAptShow(SHOW);
    expect(s.map((x) => x.Package)).toEqual(["linux-image-686", "seabios"]);
    expect(s[0].Depends).toBe("linux-image-6.1.0-50-686 (= 6.1.176-1)");
    expect(s[1].Size).toBe("162656");
    expect(Object.keys(s[0])).not.toContain("This");
  });

  it("takes the first alternative of each dependency, without version", () => {
    expect(dependsNames("linux-image-6.1.0-50-686 (= 6.1.176-1), a | b, c(>=1)")).toEqual(["linux-image-6.1.0-50-686", "a", "c"]);
    expect(dependsNames(undefined)).toEqual([]);
  });

  it("names downloaded debs as apt-get download does (epoch colon escaped)", () => {
    expect(debFileName({ name: "busybox-static", version: "1:1.35.0-4+deb12u1+b1", arch: "i386" })).toBe(
      "busybox-static_1%3a1.35.0-4+deb12u1+b1_i386.deb",
    );
  });
});
