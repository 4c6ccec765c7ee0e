// ORIGIN_URL: one origin node or several, comma-separated (edge/src/origin-urls.ts).
import { describe, expect, it } from 'vitest';
import { originUrls } from '../../../edge/src/origin-urls.ts';

describe('originUrls', () => {
  it('reads one URL or a comma-separated list, trimmed, without trailing slashes, ws as http', () => {
    expect(originUrls(undefined)).toEqual([]);
    expect(originUrls('')).toEqual([]);
    expect(originUrls('http://a:7101/')).toEqual(['http://a:7101']);
    expect(originUrls(' http://a:7101 , ws://b:7102//,, wss://c ')).toEqual(['http://a:7101', 'http://b:7102', 'https://c']);
  });
});
