/**
 * A 1.44 MB floppy image whose boot sector prints a message through the BIOS (int 10h) and halts:
 * the smallest "own image" that proves a user's image really boots.
 */
export function helloFloppy(message: string): Buffer {
  const code = [
    0x31, 0xc0, // xor ax, ax
    0x8e, 0xd8, // mov ds, ax
    0xbe, 0x15, 0x7c, // mov si, 0x7c15 (the message, right after this code)
    0xb4, 0x0e, // mov ah, 0x0e (teletype output)
    0xac, // loop: lodsb
    0x84, 0xc0, // test al, al
    0x74, 0x04, // jz hang
    0xcd, 0x10, // int 0x10
    0xeb, 0xf7, // jmp loop
    0xf4, // hang: hlt
    0xeb, 0xfd, // jmp hang
  ];
  const image = Buffer.alloc(1474560);
  Buffer.from(code).copy(image, 0);
  Buffer.from(message + "\0", "latin1").copy(image, code.length);
  image[510] = 0x55;
  image[511] = 0xaa;
  return image;
}
