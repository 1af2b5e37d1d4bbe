import { describe, expect, it } from "vitest";
import { DEBIAN_INCLUDE, DEBIAN_INIT, debianFiles, debianMirror } from "../../../scripts/guest/debian-files.mjs";
import { AUTOMATION_SHELL, PROMPT } from "../../../scripts/guest/guest-files.mjs";

describe("the debian guest's files", () => {
  it("installs what the guest promises, and busybox for udhcpc", () => {
    for (const p of ["bash", "coreutils", "python3", "procps", "less", "nano", "ca-certificates", "curl", "busybox"]) expect(DEBIAN_INCLUDE).toContain(p);
  });

  it("starts shells on ttyS0 and tty1 and the automation shell on ttyS1 from its own init", () => {
    expect(DEBIAN_INIT).toContain('( while true; do setsid -c "$@" <>"$tty" >&0 2>&1; sleep 1; done ) &');
    expect(DEBIAN_INIT).toContain("respawn /dev/ttyS0 /bin/bash -l");
    expect(DEBIAN_INIT).toContain("respawn /dev/tty1 /bin/bash -l");
    expect(DEBIAN_INIT).toContain(`respawn /dev/ttyS1 ${AUTOMATION_SHELL}`);
    expect(DEBIAN_INIT).toMatch(/host9p \/mnt\/host/);
    expect(DEBIAN_INIT).not.toMatch(/\/lib\/systemd|systemctl/);
    expect(debianFiles()["sbin/init"][0]).toBe(0o755);
    expect(debianFiles()["root/.bashrc"][1]).toContain(PROMPT);
  });

  it("finds the Debian mirror in deb822 sources and in sources.list", () => {
    const deb822 = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n";
    expect(debianMirror([deb822])).toBe("http://mirror.example/debian");
    expect(debianMirror(["# comment\ndeb [arch=amd64] http://other.example/debian bookworm main\n"])).toBe("http://other.example/debian");
    expect(debianMirror(["deb http://x.example/debian trixie main\n"])).toBeUndefined();
  });
});
