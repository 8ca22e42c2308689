import { t } from '../i18n';
import { Link } from '../components';

export function NotFoundPage() {
  return (
    <div class="auth-card">
      <h1>{t('notFound.title')}</h1>
      <p class="subtitle">{t('notFound.body')}</p>
      <Link href="/">{t('notFound.home')}</Link>
    </div>
  );
}
