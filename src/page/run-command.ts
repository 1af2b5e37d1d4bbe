/**
 * Runs a shell command over the serial console and returns exactly what it printed. The command
 * is followed by an echo of a unique end marker; the marker is split by quotes in what we type,
 * so the terminal's echo of our input can never be mistaken for the marker itself.
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
  const output = transcript
    .slice(start, end.index)
    .replace(/\r\n/g, "\n")
    .replace(/\r/g, "")
    .replace(/\n$/, "");
  return { output, exitCode: Number(end[1]) };
}

export async function runCommand(
  log: SerialLog,
  send: (text: string) => void,
  command: string,
  timeoutMs: number,
): Promise<RunResult> {
  if (command.includes("\n")) throw new Snap86Error("invalid-argument", "run() takes a single line; join commands with ';' or '&&'");
  const id = makeMarkerId();
  const from = log.end;
  send(commandLine(command, id));
  const m = await log.wait(new RegExp(`__SNAP86_${id}_\\d+__`), from, timeoutMs);
  const result = extractOutput(log.slice(from, m.index + m[0].length), id);
  if (!result) throw new Error("internal: marker seen but not parsed");
  return result;
}
