import { addressRefusal, parseTargetUrl } from './webhook-target';

describe('webhook targets', () => {
  describe.each([
    // address, refused in production, refused in development
    ['93.184.215.14', false, false],
    ['2606:4700:4700::1111', false, false],
    ['127.0.0.1', true, false],
    ['127.5.6.7', true, false],
    ['::1', true, false],
    ['10.1.2.3', true, false],
    ['172.16.0.1', true, false],
    ['192.168.1.1', true, false],
    ['100.64.0.1', true, false],
    ['169.254.1.1', true, false],
    ['fe80::1', true, false],
    ['fc00::1', true, false],
    ['::ffff:127.0.0.1', true, false],
    ['::ffff:10.0.0.1', true, false],
    ['64:ff9b::7f00:1', true, false],
    ['2002:7f00:1::', true, false],
    ['169.254.169.254', true, true],
    ['fd00:ec2::254', true, true],
    ['::ffff:169.254.169.254', true, true],
    ['0.0.0.0', true, true],
    ['::', true, true],
    ['224.0.0.1', true, true],
    ['ff02::1', true, true],
    ['255.255.255.255', true, true],
  ])('%s', (address, inProduction, inDevelopment) => {
    it(`is ${inProduction ? 'refused' : 'allowed'} in production`, () => {
      expect(addressRefusal(address, true) !== null).toBe(inProduction);
    });
    it(`is ${inDevelopment ? 'refused' : 'allowed'} outside production`, () => {
      expect(addressRefusal(address, false) !== null).toBe(inDevelopment);
    });
  });

  it.each([
    'ftp://example.com/x',
    'file:///etc/passwd',
    'gopher://example.com',
    'javascript:alert(1)',
    'https://user:pass@example.com/',
    'https://token@example.com/',
    'not a url',
    '/relative',
  ])('refuses the URL %s, naming url', (url) => {
    expect(() => parseTargetUrl(url)).toThrow(
      expect.objectContaining({ errors: [expect.objectContaining({ field: 'url' })] }),
    );
  });

  it('takes http and https URLs with ports, paths and queries', () => {
    expect(parseTargetUrl('https://example.com:8443/hooks?x=1').host).toBe('example.com:8443');
    expect(parseTargetUrl('http://[::1]:3000/').hostname).toBe('[::1]');
  });
});
