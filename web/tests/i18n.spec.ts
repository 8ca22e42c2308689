// Every key of the i18n table exists, non-empty, in all three languages, with the same
// {placeholders} (tsc checks the keys too; this holds the values).
import { test, expect } from '@playwright/test';
import { zhCN } from '../src/locales/zh-CN';
import { en } from '../src/locales/en';
import { es } from '../src/locales/es';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');

test('every key in every language, with the same placeholders', () => {
  const keys = Object.keys(zhCN).sort();
  expect(keys.length).toBeGreaterThan(300);
  for (const [name, table] of Object.entries({ en, es }) as [string, Record<string, string>][]) {
    expect(Object.keys(table).sort(), `${name} has exactly the keys of zh-CN`).toEqual(keys);
    for (const k of keys) {
      const zh = (zhCN as Record<string, string>)[k];
      expect(table[k].trim(), `${name} ${k}`).not.toBe('');
      expect(placeholders(table[k]), `${name} ${k} placeholders`).toBe(placeholders(zh));
    }
  }
});
