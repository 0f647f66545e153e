import { request, type RequestOptions } from 'node:https';

/** An HTTPS request's status and body as text, with whatever TLS options (CA, client certificate) the test needs. */
export function httpsText(url: string | URL, options: RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
