/** Code page 437, the VGA text-mode character set, as Unicode. */
const HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";
const LOW = " ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼";

export const CP437: readonly string[] = Array.from({ length: 256 }, (_, i) => {
  if (i < 32) return i === 0 ? " " : LOW[i];
  if (i < 127) return String.fromCharCode(i);
  if (i === 127) return "⌂";
  return HIGH[i - 128];
});

export function cp437ToString(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += CP437[b];
  return s;
}
