/**
 * Runs a shell command over a serial line and returns exactly what it printed. The command is
 * followed by an echo of a unique end marker; the marker is split by quotes in what we type, so
 * a terminal's echo of our input can never be mistaken for the marker itself.
 *
 * Two lines: the built-in guest's automation channel (ttyS1: no echo, no prompt, never shown to
 * the user), where a start marker bounds the output; and the user's terminal (ttyS0), for guests
 * without that channel, where the output starts after the shell's echo of the typed line.
 */
import type { SerialLog } from "./serial-log";
import { Snap86Error } from "../protocol/errors";

export interface RunResult {
  output: string;
  exitCode: number;
}

let counter = 0;

export function makeMarkerId(): string {
  counter += 1;
  return `${Date.now().toString(36)}${counter.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** The line typed into the guest shell for a command: one line, so the shell echoes it once. */
export function commandLine(command: string, id: string): string {
  // A command ending in `&` cannot be followed by `;`.
  const sep = /&\s*$/.test(command) ? " " : "; ";
  return `${command}${sep}echo "__SNAP86""_${id}_$?""__"\n`;
}

/** The line for the automation channel: nothing is echoed there, so a start marker comes first. */
export function quietCommandLine(command: string, id: string): string {
  return `echo "__SNAP86""_${id}_start""__"; ${commandLine(command, id)}`;
}

/** The output between the start marker's line and the end marker, on the automation channel. */
export function extractQuietOutput(transcript: string, id: string): RunResult | undefined {
  const end = new RegExp(`__SNAP86_${id}_(\\d+)__`).exec(transcript);
  const startMarker = `__SNAP86_${id}_start__`;
  const startAt = transcript.indexOf(startMarker);
  if (!end || startAt < 0 || startAt > end.index) return undefined;
  const nl = transcript.indexOf("\n", startAt);
  return { output: normalize(transcript.slice(nl + 1, end.index)), exitCode: Number(end[1]) };
}

/** As a terminal would show it: CRLF and lone CRs (the tty's own line endings) removed. */
function normalize(output: string): string {
  return output.replace(/\r\n/g, "\n").replace(/\r/g, "").replace(/\n$/, "");
}

/**
 * The shell's echo of the typed marker text. A long line wraps in the shell's line editor, which
 * then puts line breaks, backspaces or cursor escapes between any two characters of the echo.
 */
function echoedTail(id: string): RegExp {
  const noise = "(?:\\r|\\n|\\x08|\\x1b\\[[0-9;]*[A-Za-z]| (?=\\x08))*";
  const literal = `""_${id}_$?""__"`;
  const body = [...literal].map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(noise);
  return new RegExp(body, "g");
}

/**
 * Extracts the command's output from the transcript that follows the typed line: everything after
 * the shell's echo of that line, up to the marker. `$?` stays literal in the echo, which is what
 * tells the echo and the marker apart.
 */
export function extractOutput(transcript: string, id: string): RunResult | undefined {
  const end = new RegExp(`__SNAP86_${id}_(\\d+)__`).exec(transcript);
  if (!end) return undefined;
  // The last echo: the line editor may redraw the whole line (prompt and all) while it is typed.
  let echoEnd = 0;
  for (const m of transcript.slice(0, end.index).matchAll(echoedTail(id))) echoEnd = m.index + m[0].length;
  const nl = transcript.indexOf("\n", echoEnd);
  const start = nl >= 0 && nl < end.index ? nl + 1 : 0;
  return { output: normalize(transcript.slice(start, end.index)), exitCode: Number(end[1]) };
}

export async function runCommand(
  log: SerialLog,
  send: (text: string) => void,
  command: string,
  timeoutMs: number,
  /** On the automation channel (no echo, start marker) rather than the user's terminal. */
  quiet = false,
): Promise<RunResult> {
  if (command.includes("\n")) throw new Snap86Error("invalid-argument", "run() takes a single line; join commands with ';' or '&&'");
  const id = makeMarkerId();
  const from = log.end;
  send(quiet ? quietCommandLine(command, id) : commandLine(command, id));
  const m = await log.wait(new RegExp(`__SNAP86_${id}_\\d+__`), from, timeoutMs);
  const transcript = log.slice(from, m.index + m[0].length);
  const result = quiet ? extractQuietOutput(transcript, id) : extractOutput(transcript, id);
  if (!result) throw new Error("internal: marker seen but not parsed");
  return result;
}
