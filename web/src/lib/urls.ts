/**
 * URLs relative to the page, so the dashboard works at `/` and under any reverse-proxy sub-path
 * (`/perpscan/` → `/perpscan/api/...`, `/perpscan/ws`).
 */
export interface LocationLike {
  protocol: string;
  host: string;
  pathname: string;
}

/** The page's directory, as the browser resolves relative URLs: `/perpscan/index.html` and `/perpscan/` → `/perpscan/`. */
function directory(pathname: string): string {
  const i = pathname.lastIndexOf('/');
  return i < 0 ? '/' : pathname.slice(0, i + 1);
}

/** `ws` in the page's directory, with http→ws and https→wss. */
export function streamUrl(loc: LocationLike): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}${directory(loc.pathname)}ws`;
}
