// Removes the signature that Debian appends to every .ko. The kernel does not enforce it
// (CONFIG_MODULE_SIG_FORCE is off), but still verifies it on insmod, which cost ~1.5 s of
// guest time across the initramfs modules under v86.

export const MODULE_SIG_MAGIC = "~Module signature appended~\n";
/** struct module_signature: algo, hash, id_type, signer_len, key_id_len, pad[3], be32 sig_len. */
export const MODULE_SIG_STRUCT_SIZE = 12;

/**
 * Returns the module without its appended signature (a view into the same memory),
 * or the input unchanged with stripped=false when it carries none.
 * Throws when the trailer is there but the recorded length does not fit the file.
 */
export function stripModuleSignature(buf) {
  const magic = Buffer.from(MODULE_SIG_MAGIC, "latin1");
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < magic.length + MODULE_SIG_STRUCT_SIZE) return { data: buf, stripped: false };
  if (!bytes.subarray(bytes.length - magic.length).equals(magic)) return { data: buf, stripped: false };
  const structStart = bytes.length - magic.length - MODULE_SIG_STRUCT_SIZE;
  const sigLen = bytes.readUInt32BE(structStart + 8);
  const end = structStart - sigLen;
  if (end < 0) throw new Error(`module signature length ${sigLen} is larger than the module`);
  return { data: buf.subarray(0, end), stripped: true };
}
