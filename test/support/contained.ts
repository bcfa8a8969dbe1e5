// Module paths name hosts on the internet, and `direct` now goes to them: a go-get page over https, a
// git remote. A test process must never reach past this machine, whatever a test's module paths say,
// so every godepot and go a test starts gets outbound proxy variables pointing at a closed port on
// loopback: a request nobody meant to make fails at once with "connection refused", and no name is
// ever looked up. Loopback itself is never proxied (go's rule and godepot's), so upstreams, git
// servers and checksum databases on 127.0.0.1 are reached as before; a test that means to use a proxy
// sets its own variables over these.

// The discard port: nothing listens there.
const nowhere = 'http://127.0.0.1:9';
const direct = '127.0.0.1,localhost,::1';

/** The environment variables that keep a child process on this machine (see above). */
export const containedEnv: Readonly<NodeJS.ProcessEnv> = Object.freeze({
  HTTP_PROXY: nowhere,
  HTTPS_PROXY: nowhere,
  http_proxy: nowhere,
  https_proxy: nowhere,
  NO_PROXY: direct,
  no_proxy: direct,
  // git over ssh would look the host up itself.
  GIT_SSH_COMMAND: 'false',
});
