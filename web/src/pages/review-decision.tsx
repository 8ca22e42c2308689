import { useState } from 'preact/hooks';
import { t } from '../i18n';
import { navigate } from '../router';
import { Confirm, useAction } from '../components';

export type Decision = 'approve' | 'reject';

/**
 * The operator's approve-or-reject dialog, shared by both review queues: a rejection needs a
 * reason; once the decision is recorded, the operator goes back to the queue.
 */
export function ReviewDecision(props: {
  decision: Decision | null;
  onClose: () => void;
  title: (d: Decision) => string;
  body: (d: Decision) => string;
  decide: (d: Decision, reason?: string) => Promise<unknown>;
  queue: string;
}) {
  const { decision } = props;
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const act = useAction();
  return (
    <Confirm
      open={!!decision}
      title={decision ? props.title(decision) : ''}
      body={<p>{decision ? props.body(decision) : ''}</p>}
      confirmLabel={decision === 'approve' ? t('op.approve') : t('op.reject')}
      danger={decision === 'reject'}
      reason={decision === 'reject' ? { label: t('op.reason'), value: reason, onValue: (x) => { setReason(x); setReasonError(null); }, error: reasonError } : undefined}
      busy={act.busy}
      error={act.error}
      onCancel={() => {
        props.onClose();
        act.setError(null);
      }}
      onConfirm={async () => {
        if (!decision) return;
        if (decision === 'reject' && !reason.trim()) {
          setReasonError(t('op.reasonRequired'));
          return;
        }
        const r = await act.run(() => props.decide(decision, decision === 'reject' ? reason.trim() : undefined));
        if (r) {
          props.onClose();
          navigate(props.queue);
        }
      }}
    />
  );
}
