import { afterAll, afterEach } from 'vitest';
import { installConformanceHook, takeViolations } from './openapi-conformance.js';

/** Every test file: answers of registered workflow servers are checked, and a test that received a non-conforming one fails. */
installConformanceHook();

function failOnViolations(): void {
  const found = takeViolations();
  if (found.length > 0) throw new Error(`${found.length} answer(s) did not match the served OpenAPI document:\n${found.join('\n')}`);
}

afterEach(failOnViolations);
// Answers received in beforeAll/afterAll hooks fail the file.
afterAll(failOnViolations);
