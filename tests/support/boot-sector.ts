/**
 * Floppy-sized images whose boot sector prints a message through the BIOS (int 10h) and halts:
 * the smallest "own image" that proves a user's image really boots.
 */

/** The message printer: DS:SI at the message (right after the code), teletype until NUL. */
const PRINT = (messageAt: number) => [
  0x31, 0xc0, // xor ax, ax
  0x8e, 0xd8, // mov ds, ax
  0x88, 0xd3, // mov bl, dl (the BIOS boot drive, kept for printDrive)
  0xbe, messageAt & 0xff, messageAt >> 8, // mov si, message
  0xb4, 0x0e, // mov ah, 0x0e (teletype output)
  0xac, // loop: lodsb
  0x84, 0xc0, // test al, al
  0x74, 0x04, // jz done
  0xcd, 0x10, // int 0x10
  0xeb, 0xf7, // jmp loop
];
/** Prints the boot drive's high nibble: "0" for a floppy, "8" for a hard disk. */
const PRINT_DRIVE = [
  0x88, 0xd8, // mov al, bl
  0xc0, 0xe8, 0x04, // shr al, 4
  0x04, 0x30, // add al, '0'
  0xcd, 0x10, // int 0x10
];
const HANG = [0xf4, 0xeb, 0xfd]; // hlt; jmp hlt

function bootImage(message: string, { printDrive = false, size = 1474560 } = {}): Buffer {
  const codeLength = PRINT(0).length + (printDrive ? PRINT_DRIVE.length : 0) + HANG.length;
  const code = [...PRINT(0x7c00 + codeLength), ...(printDrive ? PRINT_DRIVE : []), ...HANG];
  const image = Buffer.alloc(size);
  Buffer.from(code).copy(image, 0);
  Buffer.from(message + "\0", "latin1").copy(image, code.length);
  image[510] = 0x55;
  image[511] = 0xaa;
  return image;
}

/** A 1.44 MB floppy that prints `message`. */
export function helloFloppy(message: string): Buffer {
  return bootImage(message);
}

/**
 * Prints `message`, then the BIOS boot drive's high nibble ("0" floppy, "8" hard disk), so a test
 * sees which drive the image was put in. `size`: the image's length.
 */
export function driveProbe(message: string, size = 1474560): Buffer {
  return bootImage(message, { printDrive: true, size });
}
