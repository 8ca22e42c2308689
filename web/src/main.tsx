import { render } from 'preact';
import { App } from './app';
import { setLang, getLang } from './i18n';
import './styles.css';

setLang(getLang());
render(<App />, document.getElementById('app')!);
