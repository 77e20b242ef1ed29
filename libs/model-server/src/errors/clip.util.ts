/** The most characters of client-supplied text an error message or log line quotes. */
export const MAX_QUOTED_CHARS = 200;

/** The longest error message the server sends; longer ones are cut. */
export const MAX_MESSAGE_CHARS = 2000;

/**
 * Client-supplied text as an error message or log line may quote it: at most {@link MAX_QUOTED_CHARS}
 * characters, the rest replaced by a note of how long it was. Use it wherever a name, header, URL or value the
 * client sent goes into a message.
 *
 * @internal
 */
export function clip(text: string, max: number = MAX_QUOTED_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
