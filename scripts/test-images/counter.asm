; snap86's test boot sector: a real-mode program (it never enables paging or protected mode)
; that prints its boot drive, then a counter twice a second, on the screen (BIOS teletype) and on
; COM1. The counter lives in the loaded sector's memory, so a checkpoint and its restore must
; carry it: a test reads "count N" before and after and knows the guest's state came back.
; On a floppy or a hard disk it also saves the counter in the disk's second sector after every
; count and starts from the saved value ("resumed at N"): a test sees the disk's writes survive a
; reboot or a reload (the copy-on-write overlay) while the served image stays as it was. A CD-ROM
; (drive e0 and up) is read-only: nothing is saved. Booted from a floppy with a hard disk (drive
; 80) beside it, it counts its boots in the hard disk's third sector and prints "hard disk boots
; N": a test of both drives at once sees the hard disk's writes (a reboot's, never the counting
; loop's) and the floppy's ("resumed at") come back.
;   nasm -f bin [-D HARDDISK] counter.asm   (HARDDISK: an MBR with one partition entry, so media
;   detection reads it as a hard disk; the floppy and CD builds have no partition table)
bits 16
org 0x7c00

%include "test-program.inc"
SAVED equ 0x7e00            ; one sector's buffer, right after the loaded boot sector
BIOS_TICKS equ 0x46c        ; the BIOS's 18.2 Hz tick count, in segment 0
TICKS_PER_COUNT equ 9       ; about half a second

start:
    BOOT_SECTOR_START main
main:
    mov [drive], dl
    mov si, banner
    call print
    mov al, [drive]
    call print_hex8
    mov si, crlf
    call print
    call load_counter
.next:
    mov si, count_label
    call print
    mov ax, [counter]
    call print_dec16
    mov si, crlf
    call print
    inc word [counter]
    call save_counter
    mov bx, [BIOS_TICKS]
.wait:
    hlt                     ; sleep until the next interrupt: an idle guest costs no host CPU
    mov ax, [BIOS_TICKS]
    sub ax, bx
    cmp ax, TICKS_PER_COUNT
    jb .wait
    jmp .next

; Sector 2 (CHS 0/0/2) of the boot drive holds "SNAP" and the counter once a count was saved.
load_counter:
%ifndef HARDDISK
    cmp byte [drive], 0x80
    jae .own
    mov ax, 0x0201
    call boots_io
    jc .own                 ; no hard disk
    cmp dword [SAVED], 'BOOT'
    je .counted
    mov dword [SAVED], 'BOOT'
    mov word [SAVED + 4], 0
.counted:
    inc word [SAVED + 4]
    mov ax, 0x0301
    call boots_io
    mov si, boots_label
    call print
    mov ax, [SAVED + 4]
    call print_dec16
    mov si, crlf
    call print
.own:
%endif
    cmp byte [drive], 0xe0
    jae .done
    mov ax, 0x0201          ; read one sector
    call sector_io
    jc .done
    cmp dword [SAVED], 'SNAP'
    jne .done
    mov ax, [SAVED + 4]
    mov [counter], ax
    mov si, resumed_label
    call print
    mov ax, [counter]
    call print_dec16
    mov si, crlf
    call print
.done:
    ret

save_counter:
    cmp byte [drive], 0xe0
    jae .done
    mov dword [SAVED], 'SNAP'
    mov ax, [counter]
    mov [SAVED + 4], ax
    mov ax, 0x0301          ; write one sector
    call sector_io
.done:
    ret

; int 13h with AX as given on CHS 0/0/2 of the boot drive, buffer at SAVED.
sector_io:
    mov cx, 0x0002
    mov dl, [drive]
    jmp int13_saved
%ifndef HARDDISK
; The same on CHS 0/0/3 of the first hard disk: the boot count.
boots_io:
    mov cx, 0x0003
    mov dl, 0x80
%endif
int13_saved:
    mov bx, SAVED
    xor dh, dh
    int 0x13
    ret

; Prints the NUL-terminated string at DS:SI.
print:
    lodsb
    test al, al
    jz .done
    call putc
    jmp print
.done:
    ret

; Prints AL on the screen and on COM1 (waiting for the transmitter to be free).
putc:
    push ax
    push bx
    push dx
    mov ah, 0x0e
    mov bx, 0x0007
    int 0x10
    COM1_SEND
    pop dx
    pop bx
    pop ax
    ret

; Prints AL as two hex digits.
print_hex8:
    push ax
    shr al, 4
    call .digit
    pop ax
    and al, 0x0f
.digit:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    jmp putc

; Prints AX in decimal.
print_dec16:
    xor cx, cx
    mov bx, 10
.divide:
    xor dx, dx
    div bx
    push dx
    inc cx
    test ax, ax
    jnz .divide
.emit:
    pop ax
    add al, '0'
    call putc
    loop .emit
    ret

banner db "snap86 counter on drive ", 0
count_label db "count ", 0
resumed_label db "resumed at ", 0
%ifndef HARDDISK
boots_label db "hard disk boots ", 0
%endif
crlf db 13, 10, 0
drive db 0
counter dw 0

%ifdef HARDDISK
    times 446 - ($ - $$) db 0
    ; One bootable partition from sector 1 to the end of a 4 MiB disk (type 0x0c): detection
    ; sees a partition table; nothing reads the partition.
    db 0x80, 0, 2, 0, 0x0c, 0, 0, 0
    dd 1, 8191
    times 48 db 0
%else
    times 510 - ($ - $$) db 0
%endif
    dw 0xaa55
