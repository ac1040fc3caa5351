import { failingLine, stripAnsi } from '../src/cells';
import { failureOf } from '../src/controller';
import type { Run } from '../src/rpc/api.gen';
import { applyEvent, isDone } from '../src/runs';

const run: Run = {
  id: 'r1',
  backend: 'local',
  pipeline: 'p',
  notebook: 'nb.ipynb',
  notebook_id: 'x',
  phase: 'Pending',
  parameters: {},
  created: '2026-01-01T00:00:00Z',
  steps: [
    { name: 'a', phase: 'Pending' },
    { name: 'b', phase: 'Pending' }
  ]
};

describe('applyEvent', () => {
  it('moves the run and its steps through their phases, with times', () => {
    let r = applyEvent(run, { time: '2026-01-01T00:00:01Z', run: 'r1', type: 'run', phase: 'Running' });
    expect(r.phase).toBe('Running');
    expect(r.started).toBe('2026-01-01T00:00:01Z');
    r = applyEvent(r, { time: '2026-01-01T00:00:02Z', run: 'r1', step: 'a', type: 'step', phase: 'Running' });
    r = applyEvent(r, { time: '2026-01-01T00:00:05Z', run: 'r1', step: 'a', type: 'step', phase: 'Succeeded', cached: true });
    const a = r.steps!.find(s => s.name === 'a')!;
    expect(a).toMatchObject({ phase: 'Succeeded', started: '2026-01-01T00:00:02Z', finished: '2026-01-01T00:00:05Z', cached: true });
    expect(run.steps![0].phase).toBe('Pending'); // not changed in place
    r = applyEvent(r, { time: '2026-01-01T00:00:06Z', run: 'r1', type: 'run', phase: 'Failed', message: 'step b failed' });
    expect(r).toMatchObject({ phase: 'Failed', finished: '2026-01-01T00:00:06Z', message: 'step b failed' });
  });

  it('counts a step that runs again after ending as retried', () => {
    let r = applyEvent(run, { time: 't1', run: 'r1', step: 'b', type: 'step', phase: 'Failed' });
    r = applyEvent(r, { time: 't2', run: 'r1', step: 'b', type: 'step', phase: 'Running' });
    expect(r.steps!.find(s => s.name === 'b')).toMatchObject({ phase: 'Running', attempt: 2, started: 't2' });
  });

  it('adds a step it did not know', () => {
    const r = applyEvent(run, { time: 't', run: 'r1', step: 'c', type: 'step', phase: 'Running' });
    expect(r.steps!.map(s => s.name)).toEqual(['a', 'b', 'c']);
  });

  it('knows which phases are final', () => {
    expect(['Succeeded', 'Failed', 'Error', 'Cancelled', 'Skipped'].every(isDone)).toBe(true);
    expect(isDone('Running')).toBe(false);
    expect(isDone('Pending')).toBe(false);
  });
});

describe('failures', () => {
  const traceback = [
    'Traceback (most recent call last):',
    '  \u001b[0;32mcell 4, line 3\u001b[0m, in <module>',
    '  cell 2, line 7, in helper',
    '  cell 4, line 5, in f',
    'ZeroDivisionError: division by zero'
  ];

  it('finds the last line of the cell a traceback points at', () => {
    expect(stripAnsi('\u001b[0;32mred\u001b[0m')).toBe('red');
    expect(failingLine(traceback, 4)).toBe(5);
    expect(failingLine(traceback, 2)).toBe(7);
    expect(failingLine(traceback, 9)).toBeNull();
  });

  it('reads the failing cell from a step report', () => {
    const report = JSON.stringify({
      cells: [
        { cell_type: 'code', metadata: { datainsight: { cell: 3 } }, source: 'x = 1', outputs: [] },
        {
          cell_type: 'code',
          metadata: { datainsight: { cell: 4 } },
          source: 'y = 1 / 0',
          outputs: [{ output_type: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero', traceback }]
        }
      ]
    });
    expect(failureOf('train', report)).toEqual({
      step: 'train',
      cell: 4,
      line: 5,
      ename: 'ZeroDivisionError',
      evalue: 'division by zero',
      traceback
    });
    expect(failureOf('train', '{"cells": []}')).toBeNull();
    expect(failureOf('train', 'not json')).toBeNull();
  });
});
