/**
 * The serial transcript since page load, with waiters. Output arrives in arbitrary slices (a
 * prompt may be split across two events), so matching always runs on the joined text from an
 * offset, never on single events.
 */
import { Snap86Error } from "../protocol/errors";
interface Waiter {
  from: number;
  pattern: RegExp;
  resolve: (m: RegExpExecArray) => void;
}

/** Old output is dropped past this size; offsets stay absolute so waiters are unaffected. */
const MAX_KEPT = 4 * 1024 * 1024;

export class SerialLog {
  private text = "";
  private dropped = 0;
  private waiters = new Set<Waiter>();

  /** Absolute offset of the end of the transcript. */
  get end(): number {
    return this.dropped + this.text.length;
  }

  append(data: string): void {
    this.text += data;
    if (this.text.length > MAX_KEPT) {
      const cut = this.text.length - MAX_KEPT / 2;
      this.text = this.text.slice(cut);
      this.dropped += cut;
    }
    for (const w of this.waiters) {
      const m = this.match(w.pattern, w.from);
      if (m) {
        this.waiters.delete(w);
        w.resolve(m);
      }
    }
  }

  /** Text from an absolute offset to the end. */
  since(from: number): string {
    return this.text.slice(Math.max(0, from - this.dropped));
  }

  /** Text between two absolute offsets. */
  slice(from: number, to: number): string {
    return this.text.slice(Math.max(0, from - this.dropped), Math.max(0, to - this.dropped));
  }

  /** First match at or after `from`; `index` in the result is absolute. */
  match(pattern: RegExp, from: number): RegExpExecArray | null {
    const re = new RegExp(pattern.source, pattern.flags.replace("g", "").replace("y", "") + "g");
    const start = Math.max(0, from - this.dropped);
    re.lastIndex = start;
    const m = re.exec(this.text);
    if (m) m.index += this.dropped;
    return m;
  }

  wait(pattern: RegExp, from: number, timeoutMs: number): Promise<RegExpExecArray> {
    const now = this.match(pattern, from);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        from,
        pattern,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const tail = this.since(this.end - 200).replace(/\r/g, "");
        reject(new Snap86Error("timeout", `Timed out after ${timeoutMs} ms waiting for ${pattern} on the serial console; last output: ${JSON.stringify(tail)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  clear(): void {
    this.dropped += this.text.length;
    this.text = "";
  }
}
