import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorDetail } from './error-detail.js';

describe('errorDetail', () => {
  it('keeps plain text up to the first blank line, as go prints it', () => {
    assert.equal(errorDetail('text/plain; charset=utf-8', Buffer.from('line one\nline two\n\nhidden')), 'line one\n\tline two');
    assert.equal(errorDetail('text/html', Buffer.from('<h1>no</h1>')), '');
    assert.equal(errorDetail('text/plain', Buffer.from('bell\x07')), '');
    assert.equal(errorDetail('text/plain; charset=latin1', Buffer.from('x')), '');
    const many = Array.from({ length: 12 }, (_, i) => `l${i}`).join('\n');
    assert.match(errorDetail('text/plain', Buffer.from(many)), /l7\n\t\[Truncated: too many lines\.\]$/);
    assert.match(errorDetail('text/plain', Buffer.from('x'.repeat(700))), /^\[Truncated: too long\.\]$/);
  });
});
