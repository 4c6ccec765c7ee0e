// ORIGIN_URL names the origin cluster: one node's base URL, or several separated by commas
// (`http://10.0.0.1:7101,http://10.0.0.2:7101`). Every origin node answers every route, so
// the edge may use any of them; listing several lets it go on when one node is down.
export function originUrls(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((u) => u.trim().replace(/^ws/, 'http').replace(/\/+$/, ''))
    .filter((u) => u !== '');
}
