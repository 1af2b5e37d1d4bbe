/**
 * The parts of v86 snap86 relies on, typed once. The npm build keeps property names (Closure
 * SIMPLE), so these internals are stable for the pinned version; anything reached through
 * them should be checked when v86 is upgraded.
 */
export interface ScreenLayer {
  image_data: ImageData;
  screen_x: number;
  screen_y: number;
  buffer_x: number;
  buffer_y: number;
  buffer_width: number;
  buffer_height: number;
}

/** The methods v86's VGA device calls on its screen adapter. */
export interface V86ScreenAdapter {
  put_char(row: number, col: number, chr: number, blinking: number, bg: number, fg: number): void;
  set_mode(graphical: boolean): void;
  set_size_text(cols: number, rows: number): void;
  set_size_graphical(width: number, height: number, virtualWidth: number, virtualHeight: number): void;
  update_cursor(row: number, col: number): void;
  update_cursor_scanline(start: number, end: number, visible: boolean): void;
  update_buffer(layers: ScreenLayer[]): void;
  clear_screen(): void;
  set_font_bitmap(...args: unknown[]): void;
  set_font_page(...args: unknown[]): void;
  clear_text_state(): void;
  set_scale(sx: number, sy: number): void;
  destroy(): void;
  pause(): void;
  continue(): void;
  get_text_screen(): string[];
  get_text_row(row: number): string;
}

export interface V86Vga {
  screen: V86ScreenAdapter;
  screen_fill_buffer(): void;
  complete_redraw(): void;
}

/** A serial port (v86's UART). */
export interface V86Uart {
  set_state(state: unknown): void;
}

/** A device whose state v86 restores (set_state with its entry of the saved state). */
export interface V86StatefulDevice {
  set_state(state: unknown): void;
}

export interface V86Cpu {
  devices: { vga?: V86Vga; uart1?: V86Uart; virtio_9p?: V86StatefulDevice; virtio_net?: V86StatefulDevice };
  wasm_memory: WebAssembly.Memory;
  memory_size: Uint32Array;
}

export interface V86Instance {
  v86: { cpu: V86Cpu };
  screen_adapter: V86ScreenAdapter;
  run(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
  restart(): void;
  is_running(): boolean;
  add_listener(event: string, fn: (...args: never[]) => void): void;
  remove_listener(event: string, fn: (...args: never[]) => void): void;
  serial0_send(data: string): void;
  /** Bytes into serial port `port` (0 = COM1 = ttyS0, 1 = COM2 = ttyS1). */
  serial_send_bytes(port: number, data: Uint8Array): void;
  keyboard_send_scancodes(codes: number[]): Promise<void>;
  get_instruction_counter(): number;
  save_state(): Promise<ArrayBuffer>;
  restore_state(state: ArrayBuffer): Promise<void>;
  /** v86's in-memory 9p filesystem (present with the `filesystem` option): the host folder. */
  fs9p?: V86Fs;
  /** The backend of the network card (present with a relay URL, "fetch" included). */
  network_adapter?: V86NetworkAdapter;
}

/** An inode of v86's 9p filesystem (lib/filesystem.js). */
export interface V86Inode {
  mode: number;
  size: number;
  mtime: number;
  nlinks: number;
  direntries: Map<string, number>;
}

/** The part of v86's 9p filesystem (lib/filesystem.js, class FS) snap86 uses. */
export interface V86Fs {
  inodes: V86Inode[];
  /** id -1 when there is no such path; `name` is set only then (the missing part). */
  SearchPath(path: string): { id: number; parentid: number; name?: string };
  CreateDirectory(name: string, parentId: number): number;
  CreateBinaryFile(name: string, parentId: number, data: Uint8Array): Promise<number>;
  Unlink(parentId: number, name: string): number;
  DeleteData(id: number): Promise<void>;
  IsDirectory(id: number): boolean;
  GetChildren(id: number): string[];
  read_file(path: string): Promise<Uint8Array | null>;
}

/**
 * The network backend (src/browser/fetch_network.js and siblings): the card's bus events call
 * send (guest -> world) and the backend calls receive (world -> guest). tcp_conn holds the
 * fetch backend's open connections by tuple.
 */
export interface V86NetworkAdapter {
  send(data: Uint8Array): void;
  receive(data: Uint8Array): void;
  tcp_conn?: Record<string, unknown>;
  destroy?(): void;
}

/** A disk v86 accepts as hda/cdrom/fda besides its built-in file types. */
export interface V86DiskLike {
  byteLength: number;
  load(): void;
  get(start: number, len: number, cb: (data: Uint8Array) => void): void;
  set(start: number, data: Uint8Array, cb: () => void): void;
}

export type V86File = { buffer: ArrayBuffer } | { url: string; async: true; size: number } | V86DiskLike;

export interface V86Options {
  wasm_path?: string;
  wasm_fn?: (imports: WebAssembly.Imports) => Promise<WebAssembly.Exports>;
  memory_size: number;
  vga_memory_size: number;
  bios: { buffer: ArrayBuffer };
  vga_bios: { buffer: ArrayBuffer };
  bzimage?: { buffer: ArrayBuffer };
  initrd?: { buffer: ArrayBuffer };
  cmdline?: string;
  hda?: V86File;
  cdrom?: V86File;
  fda?: V86File;
  /** Drives the BIOS tries, one nibble each from the lowest: 1 floppy, 2 hard disk, 3 CD-ROM. */
  boot_order?: number;
  autostart: boolean;
  disable_keyboard: boolean;
  disable_mouse: boolean;
  disable_speaker: boolean;
  acpi?: boolean;
  /** COM2 (ttyS1): the built-in guest's automation channel. */
  uart1?: boolean;
  /** v86's virtio 9p device over an empty in-memory filesystem (no base filesystem). */
  filesystem?: Record<string, never>;
  /** The network card and its backend: "fetch" (HTTP through the browser) or a WebSocket relay URL. */
  net_device?: { type: "virtio" | "ne2k"; relay_url: string };
}
