import { describe, expect, it } from "vitest";
import { commandLine, extractOutput, extractQuietOutput, quietCommandLine, runCommand } from "../../../src/page/run-command";
import { SerialLog } from "../../../src/page/serial-log";

/** A fake serial shell: echoes the typed line, prints the command's output, then the marker. */
function fakeShell(log: SerialLog, outputs: Record<string, string>, chunk = 3) {
  return (typed: string) => {
    const line = typed.replace(/\n$/, "");
    const [command] = line.split(/;? echo "__SNAP86/);
    const id = /""_(\w+)_\$\?""__"/.exec(line)![1];
    const reply = `${line}\r\n${outputs[command] ?? ""}__SNAP86_${id}_0__\r\nsnap86:~# `;
    // Deliver in small slices, as serial output arrives.
    let i = 0;
    const tick = () => {
      if (i >= reply.length) return;
      log.append(reply.slice(i, i + chunk));
      i += chunk;
      setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
  };
}

describe("run over serial", () => {
  it("returns exact output across sliced delivery", async () => {
    const log = new SerialLog();
    log.append("boot noise\r\nsnap86:~# ");
    const send = fakeShell(log, { "uname -m": "i686\r\n", "printf a": "a", "seq 3": "1\r\n2\r\n3\r\n" });
    expect(await runCommand(log, send, "uname -m", 1000)).toEqual({ output: "i686", exitCode: 0 });
    expect((await runCommand(log, send, "printf a", 1000)).output).toBe("a");
    expect((await runCommand(log, send, "seq 3", 1000)).output).toBe("1\n2\n3");
    expect((await runCommand(log, send, "true", 1000)).output).toBe("");
  });

  it("never mistakes the echo of the typed line for the marker", () => {
    const line = commandLine("echo hi", "abc");
    expect(line).not.toMatch(/__SNAP86_abc_\d+__/);
    const transcript = `${line.trim()}\r\nhi\r\n__SNAP86_abc_7__\r\n`;
    expect(extractOutput(transcript, "abc")).toEqual({ output: "hi", exitCode: 7 });
    expect(extractOutput(`${line.trim()}\r\nhi\r\n`, "abc")).toBeUndefined();
  });

  it("finds the echo of a long line the shell's editor wrapped", () => {
    for (const wrap of ["\r\n", " \b", "\x1b[K\r\n", "\r\n\r\n"]) {
      const typed = commandLine("echo a-rather-long-command-line", "abc").trim();
      const cut = typed.length - 3; // inside `"__"`, as in a real capture
      const transcript = `${typed.slice(0, cut)}${wrap}${typed.slice(cut)}\r\nout\r\n__SNAP86_abc_0__\r\n`;
      expect(extractOutput(transcript, "abc")).toEqual({ output: "out", exitCode: 0 });
    }
  });

  it("takes the last echo when the line editor redraws the typed line", () => {
    const typed = commandLine("printf x", "abc").trim();
    const transcript = `${typed.slice(0, 10)}\r\nsnap86:~# ${typed}\r\nx__SNAP86_abc_0__\r\n`;
    const redrawn = `${typed}\r\nsnap86:~# ${typed}\r\nx__SNAP86_abc_0__\r\n`;
    expect(extractOutput(transcript, "abc")?.output).toBe("x");
    expect(extractOutput(redrawn, "abc")?.output).toBe("x");
  });

  it("handles background commands and refuses multi-line input", async () => {
    expect(commandLine("sleep 1 &", "x")).toMatch(/^sleep 1 & echo/);
    await expect(runCommand(new SerialLog(), () => undefined, "a\nb", 10)).rejects.toThrow(/single line/);
  });

  it("times out with the last output in the message", async () => {
    const log = new SerialLog();
    log.append("kernel panic - not syncing");
    await expect(runCommand(log, () => undefined, "true", 30)).rejects.toThrow(/Timed out.*kernel panic/);
  });
});

describe("run on the automation channel (no echo, no prompt)", () => {
  /** The guest's ttyS1 shell: prints only what the commands print. */
  function quietShell(log: SerialLog, outputs: Record<string, string>) {
    return (typed: string) => {
      const id = /""_(\w+)_start""__"/.exec(typed)![1];
      const command = typed.replace(/^echo "[^;]*; /, "").split(/;? echo "__SNAP86/)[0];
      const reply = `__SNAP86_${id}_start__\n${outputs[command] ?? ""}__SNAP86_${id}_0__\n`;
      for (let i = 0; i < reply.length; i += 2) setTimeout(() => log.append(reply.slice(i, i + 2)), 0);
    };
  }

  it("returns exact output bounded by the start and end markers", async () => {
    const log = new SerialLog();
    // Output of an earlier command that timed out must not leak into the next one.
    log.append("late output of a command that timed out\n");
    const send = quietShell(log, { "printf 'a\\nb\\n\\nc'": "a\nb\n\nc", "uname -m": "i686\n", true: "" });
    expect(await runCommand(log, send, "uname -m", 1000, true)).toEqual({ output: "i686", exitCode: 0 });
    expect((await runCommand(log, send, "printf 'a\\nb\\n\\nc'", 1000, true)).output).toBe("a\nb\n\nc");
    expect((await runCommand(log, send, "true", 1000, true)).output).toBe("");
  });

  it("never mistakes an echo of the typed line (a tty not yet raw) for a marker", () => {
    const line = quietCommandLine("echo hi", "abc");
    expect(line).not.toMatch(/__SNAP86_abc_(start|\d+)__/);
    expect(extractQuietOutput(`${line}`, "abc")).toBeUndefined();
    expect(extractQuietOutput(`${line}__SNAP86_abc_start__\nhi\n__SNAP86_abc_3__\n`, "abc")).toEqual({ output: "hi", exitCode: 3 });
  });
});

describe("SerialLog", () => {
  it("matches patterns split across appends and keeps absolute offsets after trimming", async () => {
    const log = new SerialLog();
    const waiting = log.wait(/login: $/, 0, 1000);
    log.append("snap86 log");
    log.append("in: ");
    expect((await waiting).index).toBe(7);
    const big = "x".repeat(3 * 1024 * 1024);
    log.append(big);
    log.append(big);
    const end = log.end;
    log.append("tail-marker");
    expect(log.since(end)).toBe("tail-marker");
    expect(log.match(/tail-marker/, end)?.index).toBe(end);
    expect(log.match(/snap86/, 0)).toBeNull(); // trimmed away, offsets still absolute
  });
});
