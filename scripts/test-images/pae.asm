; snap86's PAE test floppy: a program that enables PAE paging (CR4.PAE + CR0.PG, with CR4.PSE for
; 2 MiB pages) so that lazy restore, which walks the guest's page tables itself, is tested on
; 64-bit entries and the four PDPTE registers. Like counter.asm it prints a counter twice a
; second on the screen and on COM1, here with a checksum:
;   count N sum HHHHHHHH ok
; The checksum covers a 4 MiB work area (physical 4..8 MiB) that the program keeps rewriting:
; each count rewrites one 1 MiB quarter of it through alias A (0xc0000000, two 2 MiB pages), then
; sums all 4 MiB through alias B (0x40000000, 4 KiB pages in two page tables), and compares
; with the sum it expects from the previous total and the quarter it rewrote ("ok" or "BAD").
; The counter and totals live in a page that is only reached at 0x80000000 (a 4 KiB mapping of
; physical 0x20000). A wrong page walk, a page restored with the wrong bytes or a write that the
; dirty tracking missed changes the sums: the program is deterministic, so after a restore the
; guest must print for each count the very sum it printed the first time.
;   nasm -f bin pae.asm   (a 1.44 MB floppy once padded; the BIOS loads sector 1, it loads the rest)
bits 16
org 0x7c00

%include "test-program.inc"
STAGE2_SECTORS equ 4            ; sectors 2..5: everything after the boot sector
PDPT equ 0x10000                ; 32-byte aligned; its four entries point at the directories below
PD0 equ 0x11000                 ; 0..1 GiB: identity for the low 2 MiB (code, stack, VGA)
PT0 equ 0x12000                 ;   512 4 KiB pages
PD1 equ 0x13000                 ; 1..2 GiB: alias B of the work area
PT1 equ 0x14000                 ;   two tables (0x14000, 0x15000): 1024 4 KiB pages
PD2 equ 0x16000                 ; 2..3 GiB: the data page
PT2 equ 0x17000
PD3 equ 0x18000                 ; 3..4 GiB: alias A of the work area, 2 MiB pages
TABLES_END equ 0x19000
DATA_PHYS equ 0x20000
WORK_PHYS equ 0x400000
WORK_BYTES equ 0x400000
QUARTER equ WORK_BYTES / 4
ALIAS_A equ 0xc0000000
ALIAS_B equ 0x40000000
DATA equ 0x80000000
; The data page's fields (virtual, through the 4 KiB mapping).
TICKS equ DATA + 0
COUNTER equ DATA + 4
TOTAL equ DATA + 8              ; the sum of the work area after the last count
ROW equ DATA + 12               ; the screen row the next line goes on
COL equ DATA + 16
STATUS equ DATA + 20            ; 0 until a sum came out wrong
QUARTER_END equ DATA + 24
TICKS_PER_COUNT equ 9           ; the BIOS's 18.2 Hz timer: about half a second

start:
    BOOT_SECTOR_START main16
main16:
    mov [drive], dl
    mov si, banner
.banner:
    lodsb
    test al, al
    jz .loaded_banner
    call putc16
    jmp .banner
.loaded_banner:
    mov al, [drive]
    shr al, 4
    call hex16
    mov al, [drive]
    call hex16
    mov al, 13
    call putc16
    mov al, 10
    call putc16
    ; The rest of the program: CHS 0/0/2.. of the boot drive, right after this sector.
    mov ax, 0x0200 + STAGE2_SECTORS
    mov bx, 0x7e00
    mov cx, 0x0002
    xor dh, dh
    mov dl, [drive]
    int 0x13
    jc .fail
    ; Where the BIOS left the cursor: protected mode writes the screen from there.
    movzx eax, byte [0x451]
    mov [cursor_row], eax
    cli
    lgdt [gdt_desc]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp 0x08:pm32
.fail:
    mov al, '!'
    call putc16
    hlt
    jmp .fail

hex16:
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe putc16
    add al, 'a' - '9' - 1
; AL on the screen (BIOS teletype) and COM1.
putc16:
    pusha
    mov ah, 0x0e
    mov bx, 0x0007
    int 0x10
    popa
    pusha
    COM1_SEND
    popa
    ret

banner db "snap86 pae counter on drive ", 0
drive db 0
align 4
cursor_row dd 0
gdt:
    dq 0
    dq 0x00cf9a000000ffff       ; 0x08: code, flat 4 GiB, 32-bit
    dq 0x00cf92000000ffff       ; 0x10: data, flat 4 GiB
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt

    times 510 - ($ - $$) db 0
    dw 0xaa55

; ---- stage 2 (0x7e00), 32-bit protected mode ----
bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x9000
    ; Page tables, all entries 64-bit (high halves 0).
    mov edi, PDPT
    mov ecx, (TABLES_END - PDPT) / 4
    xor eax, eax
    rep stosd
    mov dword [PDPT + 0], PD0 | 1
    mov dword [PDPT + 8], PD1 | 1
    mov dword [PDPT + 16], PD2 | 1
    mov dword [PDPT + 24], PD3 | 1
    ; PD0[0] -> PT0: identity map 0..2 MiB, 4 KiB pages.
    mov dword [PD0], PT0 | 3
    mov edi, PT0
    mov eax, 3
    mov ecx, 512
.pt0:
    mov [edi], eax
    add eax, 0x1000
    add edi, 8
    loop .pt0
    ; PD1[0..1] -> PT1, PT1 + 0x1000: 0x40000000.. -> WORK_PHYS.., 4 KiB pages (alias B).
    mov dword [PD1 + 0], PT1 | 3
    mov dword [PD1 + 8], (PT1 + 0x1000) | 3
    mov edi, PT1
    mov eax, WORK_PHYS | 3
    mov ecx, 1024
.pt1:
    mov [edi], eax
    add eax, 0x1000
    add edi, 8
    loop .pt1
    ; PD2[0] -> PT2[0] -> DATA_PHYS: 0x80000000 is the data page.
    mov dword [PD2], PT2 | 3
    mov dword [PT2], DATA_PHYS | 3
    ; PD3[0..1]: 0xc0000000.. -> WORK_PHYS.., two 2 MiB pages (PS) (alias A).
    mov dword [PD3 + 0], WORK_PHYS | 0x83
    mov dword [PD3 + 8], (WORK_PHYS + 0x200000) | 0x83
    ; PAE and PSE (v86 honours PDE.PS only with CR4.PSE, in PAE mode too), then paging.
    mov eax, cr4
    or eax, (1 << 5) | (1 << 4)
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:
    mov eax, [cursor_row]
    mov [ROW], eax
    mov dword [COL], 0
    mov dword [TICKS], 0
    mov dword [COUNTER], 0
    call sum_area               ; the area as the BIOS left it (zeros)
    mov [TOTAL], eax
    mov dword [STATUS], 0
    ; An IDT: IRQ 0 stays at vector 8, where the BIOS put it; only the timer is unmasked.
    mov edi, idt
    mov ecx, 32
.idt:
    mov eax, fault
    cmp ecx, 32 - 8
    jne .gate
    mov eax, timer
.gate:
    mov [edi], ax
    mov word [edi + 2], 0x08
    mov word [edi + 4], 0x8e00
    shr eax, 16
    mov [edi + 6], ax
    add edi, 8
    loop .idt
    lidt [idt_desc]
    mov al, 0xfe
    out 0x21, al
    mov al, 0xff
    out 0xa1, al
    mov esi, pae_on
    call print
    sti

next:
    mov ebx, [TICKS]
    call rewrite_and_sum
    mov esi, count_label
    call print
    mov eax, [COUNTER]
    call print_dec
    mov esi, sum_label
    call print
    mov eax, [TOTAL]
    call print_hex32
    mov esi, ok_label
    cmp dword [STATUS], 0
    je .status
    mov esi, bad_label
.status:
    call print
    inc dword [COUNTER]
.wait:
    hlt
    mov eax, [TICKS]
    sub eax, ebx
    cmp eax, TICKS_PER_COUNT
    jb .wait
    jmp next

; Quarter COUNTER mod 4 of the work area: x = x * 5 + counter + i, through alias A. The sum is
; over (x XOR i * 0x9e3779b9) rotated left by i mod 32, for all 4 MiB through alias B: a page in
; the wrong place changes it too (the key and the rotation mix every bit). It must equal the
; previous total minus the quarter's old terms plus its new ones.
KEY equ 0x9e3779b9
rewrite_and_sum:
    pusha
    mov ebp, [COUNTER]
    mov ecx, ebp
    and ecx, 3
    imul ecx, ecx, QUARTER / 4  ; i: the quarter's first dword in the whole area
    lea eax, [ecx + QUARTER / 4]
    mov [QUARTER_END], eax
    mov edi, ALIAS_A
    xor esi, esi                ; old terms - new terms
.rewrite:
    mov eax, [edi + ecx * 4]
    imul ebx, ecx, KEY
    mov edx, eax
    xor edx, ebx
    rol edx, cl
    add esi, edx
    lea eax, [eax + eax * 4]
    add eax, ebp
    add eax, ecx
    mov [edi + ecx * 4], eax
    xor eax, ebx
    rol eax, cl
    sub esi, eax
    inc ecx
    cmp ecx, [QUARTER_END]
    jb .rewrite
    mov ebx, [TOTAL]
    sub ebx, esi                ; expected
    call sum_area
    mov [TOTAL], eax
    cmp eax, ebx
    je .done
    mov dword [STATUS], 1
.done:
    popa
    ret

;   EAX = the sum over the whole area through alias B.
sum_area:
    push ecx
    push edx
    push edi
    xor eax, eax
    mov edi, ALIAS_B
    xor ecx, ecx
.sum:
    imul edx, ecx, KEY
    xor edx, [edi + ecx * 4]
    rol edx, cl
    add eax, edx
    inc ecx
    cmp ecx, WORK_BYTES / 4
    jb .sum
    pop edi
    pop edx
    pop ecx
    ret

timer:
    push eax
    inc dword [TICKS]
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

fault:
    mov esi, fault_label
    call print
.stop:
    cli
    hlt
    jmp .stop

; Prints the NUL-terminated string at ESI.
print:
    push eax
.next:
    lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop eax
    ret

; AL on COM1 and on the text screen at ROW/COL (CR, LF and scrolling handled here).
putc:
    pusha
    COM1_SEND
    cmp al, 13
    je .cr
    cmp al, 10
    je .lf
    mov edi, [ROW]
    imul edi, edi, 160
    mov ebx, [COL]
    lea edi, [0xb8000 + edi + ebx * 2]
    mov ah, 0x07
    mov [edi], ax
    inc dword [COL]
    jmp .done
.cr:
    mov dword [COL], 0
    jmp .done
.lf:
    inc dword [ROW]
    cmp dword [ROW], 25
    jb .done
    mov dword [ROW], 24
    mov esi, 0xb8000 + 160
    mov edi, 0xb8000
    mov ecx, 24 * 160 / 4
    rep movsd
    mov eax, 0x07200720
    mov ecx, 160 / 4
    rep stosd
.done:
    popa
    ret

print_dec:
    pusha
    xor ecx, ecx
    mov ebx, 10
.divide:
    xor edx, edx
    div ebx
    push edx
    inc ecx
    test eax, eax
    jnz .divide
.emit:
    pop eax
    add al, '0'
    call putc
    loop .emit
    popa
    ret

print_hex32:
    pusha
    mov edx, eax
    mov ecx, 8
.digit:
    rol edx, 4
    mov al, dl
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    call putc
    loop .digit
    popa
    ret

pae_on db "paging on: PAE, 2 MiB and 4 KiB pages", 13, 10, 0
count_label db "count ", 0
sum_label db " sum ", 0
ok_label db " ok", 13, 10, 0
bad_label db " BAD", 13, 10, 0
fault_label db "fault: stopped", 13, 10, 0
align 8
idt_desc:
    dw 32 * 8 - 1
    dd idt
idt:
    times 32 * 8 db 0

    times 512 + STAGE2_SECTORS * 512 - ($ - $$) db 0
