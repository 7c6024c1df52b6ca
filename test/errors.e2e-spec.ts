import { Controller, Get } from '@nestjs/common';
import { Public } from '../src/shared/auth/public.decorator';
import { createTestApp, TestApp } from './helpers/app';

@Controller('test-failures')
class FailingController {
  @Get('crash')
  @Public()
  crash(): never {
    throw new Error('secret internal detail at /srv/app.js:42');
  }
}

const PROBLEM = /application\/problem\+json/;

describe('errors and request ids', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ extra: { controllers: [FailingController] } });
  });
  afterAll(() => t.close());

  it('answers an unknown route with a 404 problem', async () => {
    const res = await t.http().get('/api/v1/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toMatchObject({
      status: 404,
      title: 'Not Found',
      instance: '/api/v1/no-such-thing',
    });
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await t
      .http()
      .post('/api/v1/auth/login')
      .set('content-type', 'application/json')
      .send('{"email": ');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.status).toBe(400);
  });

  it('answers an unsupported media type with a 415 problem', async () => {
    const res = await t
      .http()
      .post('/api/v1/auth/login')
      .set('content-type', 'application/xml')
      .send('<a/>');
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toMatch(PROBLEM);
  });

  it('answers an unexpected error with a 500 problem that reveals nothing', async () => {
    const res = await t.http().get('/api/v1/test-failures/crash');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(JSON.stringify(res.body)).not.toMatch(/secret|\/srv|stack/);
    expect(res.body).toMatchObject({ status: 500, title: 'Internal Server Error' });
  });

  it('echoes a well-formed X-Request-Id and makes one up otherwise', async () => {
    const given = await t.http().get('/health').set('X-Request-Id', 'client-chosen-id-1');
    expect(given.headers['x-request-id']).toBe('client-chosen-id-1');
    const made = await t.http().get('/health').set('X-Request-Id', 'bad id with spaces <script>');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const none = await t.http().get('/health');
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves the liveness and readiness probes and the OpenAPI document', async () => {
    expect((await t.http().get('/health')).body).toEqual({ status: 'ok' });
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.database.status).toBe('up');
    const docs = await t.http().get('/docs-json');
    expect(docs.status).toBe(200);
    expect(docs.body.components.securitySchemes.bearer).toBeDefined();
    for (const path of [
      '/api/v1/auth/register',
      '/api/v1/auth/login',
      '/api/v1/auth/refresh',
      '/api/v1/auth/logout',
      '/api/v1/auth/logout-all',
      '/api/v1/me',
      '/api/v1/me/password',
    ]) {
      expect(docs.body.paths[path]).toBeDefined();
    }
    expect((await t.http().get('/docs')).status).toBe(200);
  });
});
