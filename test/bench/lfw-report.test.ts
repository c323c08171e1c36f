import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withIdentificationSection } from '../../bench/parts/lfw-report.js';

test('the LFW open-set section goes before "Search at scale" and is replaced in place on the next run', () => {
  const doc = '# Identification\n\n## Open-set (deepface-unit)\n\nrows\n\n## Search at scale\n\ngrid\n';
  const once = withIdentificationSection(doc, '## Open-set identification on LFW dev\n\nfirst');
  assert.ok(once.indexOf('first') < once.indexOf('## Search at scale'));
  assert.ok(once.indexOf('rows') < once.indexOf('first'));
  const twice = withIdentificationSection(once, '## Open-set identification on LFW dev\n\nsecond');
  assert.equal(twice.includes('first'), false);
  assert.equal(twice.split('## Open-set identification on LFW dev').length, 2);
  assert.ok(twice.indexOf('second') < twice.indexOf('## Search at scale'));
  assert.ok(twice.endsWith('grid\n'));
  // No search section: appended.
  assert.ok(withIdentificationSection('# Id\n', 'body').trimEnd().endsWith('<!-- lfw-open-set:end -->'));
});
