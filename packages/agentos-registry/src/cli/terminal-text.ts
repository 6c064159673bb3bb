/**
 * Text the CLI prints, made safe for a terminal. Much of it comes from registries (names, descriptions, ids,
 * versions, manifests, and error and warning messages that quote them), and a registry could put terminal control
 * sequences there: an OSC that retitles the window, a CSI that clears the screen, a carriage return that overwrites
 * what was printed. Every C0 control character, DEL and every C1 control character (U+0080–U+009F, which some
 * terminals obey as 8-bit CSI/OSC) is shown as a `\uXXXX` escape instead, so the sequence is visible and inert.
 *
 * The same escape is valid inside a JSON string and means the same character, so `--json` output goes through the
 * same filter: JSON.stringify already escapes C0, but leaves DEL and C1 raw.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

const asEscape = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One value shown on one line (a table cell, a field, a message): every control character escaped, newlines too. */
export function oneLine(text: string): string {
  return text.replace(CONTROL, asEscape);
}

/**
 * What the CLI writes, as the last step: control characters escaped except the newlines and tabs of its own layout
 * (and of multi-line text such as a persona's system prompt, whose CRLF line ends become plain newlines).
 */
export function terminalSafe(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(CONTROL_BUT_LAYOUT, asEscape);
}
