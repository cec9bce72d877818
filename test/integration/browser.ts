// A real browser for the tests: Debian's chromium (hack/deps.sh installs it) driven by playwright-core,
// which downloads nothing. Every request the page makes is recorded, and any but the page's own refused.
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CLINOPS_CHROMIUM ?? '/usr/bin/chromium';

export async function withPage<T>(html: string, use: (page: Page, requests: string[]) => Promise<T>): Promise<T> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    await page.setContent(html, { waitUntil: 'load' });
    return await use(page, requests);
  } finally {
    await browser.close();
  }
}
