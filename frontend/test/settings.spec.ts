import { withMarshal } from '../src/settings';

describe('withMarshal', () => {
  it('sets a key, keeping the others', () => {
    expect(withMarshal({ mode: 'pvc' }, 'size', '2Gi')).toEqual({ mode: 'pvc', size: '2Gi' });
    expect(withMarshal(undefined, 'access_mode', 'ReadWriteMany')).toEqual({ access_mode: 'ReadWriteMany' });
  });

  it('removes a key set to empty, and the whole object once nothing is left', () => {
    expect(withMarshal({ size: '2Gi', pvc: 'data' }, 'pvc', '')).toEqual({ size: '2Gi' });
    expect(withMarshal({ size: '2Gi' }, 'size', '')).toBeUndefined();
    expect(withMarshal(undefined, 'mode', '')).toBeUndefined();
  });

  it('does not change the object it is given (the model keeps it)', () => {
    const m = { size: '1Gi' };
    withMarshal(m, 'size', '3Gi');
    expect(m).toEqual({ size: '1Gi' });
  });
});
