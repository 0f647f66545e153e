// Credentials written into a repository URL (`https://user:token@host/repo.git`) must never reach a
// status message, a condition, an error or a log line: the password is replaced as Go's
// url.Redacted does, and a user name without a password (often a token itself) is replaced too.

const MASK = 'xxxxx';

function redactUserinfo(userinfo: string): string {
  const colon = userinfo.indexOf(':');
  return colon < 0 ? MASK : `${userinfo.slice(0, colon)}:${MASK}`;
}

/** Ends a URL's authority: `/`, `?`, `#`, whitespace, quotes and brackets around a URL in text. */
const AUTHORITY_END = new Set(['/', '?', '#', ' ', '\t', '\n', '\r', '"', "'", '`', '<', '>', '(', ')', '[', ']', '\\', ',']);

/**
 * `text` with the credentials of every `scheme://user:password@host` in it masked; a scan, not a
 * backtracking regex, so any text redacts in linear time.
 */
export function redactUrls(text: string): string {
  let at = text.indexOf('://');
  if (at < 0) return text;
  let out = '';
  let done = 0;
  while (at >= 0) {
    const start = at + 3;
    let end = start;
    let lastAt = -1;
    while (end < text.length && !AUTHORITY_END.has(text[end])) {
      if (text[end] === '@') lastAt = end;
      end++;
    }
    if (lastAt > start) {
      out += text.slice(done, start) + redactUserinfo(text.slice(start, lastAt));
      done = lastAt;
    }
    at = text.indexOf('://', end);
  }
  return out + text.slice(done);
}

/** One URL with its credentials masked. */
export function redactUrl(url: string): string {
  return redactUrls(url);
}
