/**
 * XML and HTML text escaping shared by the JUnit and HTML reporters. Characters XML 1.0 cannot carry at all
 * (C0 controls except tab / newline / carriage return, lone surrogates, U+FFFE / U+FFFF) become U+FFFD, so a
 * report of hostile data is still a well-formed document.
 */

const INVALID_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding the control characters XML forbids is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function stripInvalidXml(s: string): string {
  return s.replace(INVALID_XML, '\uFFFD');
}

/** Text content of an element. `]]>` needs no special case: `>` is escaped. */
export function xmlText(value: unknown): string {
  return stripInvalidXml(String(value)).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value (double-quoted). Newlines and tabs are kept as character references, not normalised away. */
export function xmlAttr(value: unknown): string {
  return xmlText(value)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** HTML text or double-quoted attribute value. */
export function htmlEscape(value: unknown): string {
  return stripInvalidXml(String(value))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON for a `<script type="application/json">` block: `<` is written as \u003c so no `</script` (or `<!--`) can
 * end the block early; U+2028/2029 are escaped for old parsers. JSON.parse reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
