/**
 * v86 reports serial output one byte per event. Posting each byte to the main thread would cost a
 * message per byte, so bytes are decoded (UTF-8, across byte boundaries) and sent in batches.
 */
export class SerialBatcher {
  private readonly decoder = new TextDecoder("utf-8");
  private pending: number[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly emit: (text: string) => void,
    private readonly delayMs = 8,
  ) {}

  push(byte: number): void {
    this.pending.push(byte);
    if (this.pending.length >= 4096) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const text = this.decoder.decode(new Uint8Array(this.pending), { stream: true });
    this.pending = [];
    if (text) this.emit(text);
  }
}
