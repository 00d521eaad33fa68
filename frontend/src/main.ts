import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { lang, setLang } from './i18n';
import { createPulseRouter } from './router';
import './style.css';

setLang(lang.value);
createApp(App).use(createPinia()).use(createPulseRouter()).mount('#app');
