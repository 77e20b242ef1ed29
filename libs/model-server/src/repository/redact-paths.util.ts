/**
 * Absolute file paths in a text: a POSIX path (`/` and at least one name, not preceded by a name character, `.`,
 * `:`, `/` or `~`, so URLs and relative paths stay), or a Windows one (`C:\...`). Each repetition starts with its
 * separator, so matching is linear.
 */
const ABSOLUTE_PATH = /(?<![\w.:/~\\-])(?:\/[^\s/\\'"`()<>[\]{},;]+)+|(?<![\w])[A-Za-z]:(?:\\[^\s/\\'"`()<>[\]{},;]+)+/g;

/** The last name of a matched path (the file or folder it points at). */
function lastName(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return `…${path[cut]}${path.slice(cut + 1)}`;
}

/**
 * `text` with every absolute file path shortened to its last name (`/srv/models/iris/model.json` →
 * `…/model.json`), for what clients see of a failure (a failed load's reason in metadata, readiness, listings,
 * the repository index and 503 answers). Logs keep the full text.
 *
 * @internal
 */
export function withoutPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, lastName);
}
