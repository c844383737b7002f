// The landing page: only the shared text and the language picker.
import { setupPage } from './i18n.js';
import { withCommon } from './messages.js';

const { t } = setupPage(withCommon({}));
document.title = t('app');
