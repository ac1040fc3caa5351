import * as tags from '../src/tags';

describe('describe', () => {
  it('reads Kale tags and ours, keeping the rest verbatim', () => {
    const info = tags.describe([
      'block:train',
      'prev:load',
      'prev:clean',
      'limit:nvidia.com/gpu:2',
      'limit:memory:4Gi',
      'request:cpu:1',
      'image:python:3.12',
      'retry:3',
      'timeout:30m',
      'cache:off',
      'annotation:team:ml:core',
      'env:A=1'
    ]);
    expect(info.step).toBe('train');
    expect(info.prev).toEqual(['load', 'clean']);
    expect(info.role).toBeNull();
    expect(info.gpus).toBe(2);
    expect(info.limits).toEqual({ 'nvidia.com/gpu': '2', memory: '4Gi' });
    expect(info.requests).toEqual({ cpu: '1' });
    expect(info.image).toBe('python:3.12');
    expect(info.retry).toBe(3);
    expect(info.timeout).toBe('30m');
    expect(info.cacheOff).toBe(true);
    expect(info.other).toEqual(['annotation:team:ml:core', 'env:A=1']);
  });

  it('reads roles and step: as block:', () => {
    expect(tags.describe(['pipeline-parameters']).role).toBe('pipeline-parameters');
    expect(tags.describe(['step:x']).step).toBe('x');
    expect(tags.describe(['block:']).step).toBe('');
    expect(tags.describe([]).step).toBeNull();
  });
});

describe('edits', () => {
  it('sets a step where the old one was, keeping other tags in order', () => {
    expect(tags.setStep(['label:a:b', 'block:old', 'prev:x'], 'new')).toEqual(['label:a:b', 'block:new', 'prev:x']);
    expect(tags.setStep(['prev:x'], 'first')).toEqual(['prev:x', 'block:first']);
    expect(tags.setStep(['block:a', 'prev:x'], null)).toEqual(['prev:x']);
  });

  it('makes a step cell lose its role, and a role cell lose its step and prev', () => {
    expect(tags.setStep(['skip'], 'a')).toEqual(['block:a']);
    expect(tags.setRole(['block:a', 'prev:b', 'limit:cpu:1'], 'imports')).toEqual(['imports', 'limit:cpu:1']);
    expect(tags.setRole(['skip'], null)).toEqual([]);
  });

  it('sets prev: steps, resources, values and cache', () => {
    expect(tags.setPrev(['block:c', 'prev:a'], ['a', 'b'])).toEqual(['block:c', 'prev:a', 'prev:b']);
    expect(tags.setPrev(['block:c', 'prev:a'], [])).toEqual(['block:c']);
    expect(tags.setGPUs(['block:c'], 1)).toEqual(['block:c', 'limit:nvidia.com/gpu:1']);
    expect(tags.setGPUs(['limit:nvidia.com/gpu:1', 'block:c'], 0)).toEqual(['block:c']);
    expect(tags.setResource(['limit:memory:1Gi'], 'memory', '2Gi')).toEqual(['limit:memory:2Gi']);
    expect(tags.setValue(['block:c'], 'image', ' repo/img:1 ')).toEqual(['block:c', 'image:repo/img:1']);
    expect(tags.setValue(['block:c', 'retry:2'], 'retry', '')).toEqual(['block:c']);
    expect(tags.setCacheOff(['block:c'], true)).toEqual(['block:c', 'cache:off']);
    expect(tags.setCacheOff(['block:c', 'cache:off'], false)).toEqual(['block:c']);
  });

  it('replaces only the tags the editor has no field for', () => {
    expect(tags.setOther(['block:c', 'env:A=1', 'retry:2'], ['env:B=2', '', 'label:x:y'])).toEqual([
      'block:c',
      'env:B=2',
      'label:x:y',
      'retry:2'
    ]);
  });

  it('renames a step and the prev: that name it, and nothing else', () => {
    expect(tags.renameInCell(['block:load', 'prev:load', 'prev:loader'], 'load', 'read')).toEqual([
      'block:read',
      'prev:read',
      'prev:loader'
    ]);
    const same = ['block:other'];
    expect(tags.renameInCell(same, 'load', 'read')).toBe(same);
  });
});

describe('checks', () => {
  it('accepts Kale step names only', () => {
    expect(tags.stepNameProblem('train_2')).toBeNull();
    expect(tags.stepNameProblem('_x')).toBeNull();
    expect(tags.stepNameProblem('Train')).toMatch(/lowercase/);
    expect(tags.stepNameProblem('2x')).toMatch(/lowercase/);
    expect(tags.stepNameProblem('a-b')).toMatch(/lowercase/);
    expect(tags.stepNameProblem('')).toMatch(/name/);
  });

  it('flags tags the analyzer does not know', () => {
    expect(tags.tagProblem('env:A=1')).toBeNull();
    expect(tags.tagProblem('skip')).toBeNull();
    expect(tags.tagProblem('blok:x')).toMatch(/not a pipeline tag/);
    expect(tags.tagProblem('image:')).toMatch(/not a pipeline tag/);
  });
});
