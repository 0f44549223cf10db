import { describe, expect, it } from 'vitest';
import { createRateWindow } from '../../shared/rate-window.ts';

const LARK = [
  { max: 5, perMs: 1_000 },
  { max: 100, perMs: 60_000 },
];

describe('createRateWindow', () => {
  it('hands out 20 slots a minute at once, then the 21st when the first leaves the window', () => {
    // Arrange
    const window = createRateWindow();
    const limit = [{ max: 20, perMs: 60_000 }];

    // Act
    const waits = Array.from({ length: 21 }, () => window.reserve('robot', limit, 1_000, 1_000_000));

    // Assert
    expect(waits.slice(0, 20)).toEqual(Array(20).fill(0));
    expect(waits[20]).toBe(60_000);
  });

  it('keeps both of Lark’s limits: 5 a second and 100 a minute', () => {
    // Arrange
    const window = createRateWindow();

    // Act: 101 messages all asked for at t = 0.
    const waits = Array.from({ length: 101 }, () => window.reserve('lark', LARK, 0, 10_000_000));

    // Assert
    expect(waits.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(waits.slice(5, 10)).toEqual([1_000, 1_000, 1_000, 1_000, 1_000]);
    expect(waits[99]).toBe(19_000);
    expect(waits[100]).toBe(60_000);
  });

  it('reserves nothing when the next slot is later than the latest start, so a later call still gets it', () => {
    // Arrange
    const window = createRateWindow();
    const limit = [{ max: 1, perMs: 60_000 }];
    window.reserve('robot', limit, 0, 0);

    // Act
    const tooLate = window.reserve('robot', limit, 10_000, 30_000);
    const inTime = window.reserve('robot', limit, 10_000, 120_000);

    // Assert
    expect(tooLate).toBeUndefined();
    expect(inTime).toBe(50_000);
  });

  it('gives no slot before a block ends (the robot said it is rate limited), and keeps robots apart', () => {
    // Arrange
    const window = createRateWindow();
    const limit = [{ max: 20, perMs: 60_000 }];
    window.block('a', 600_000);

    // Act / Assert
    expect(window.reserve('a', limit, 0, 60_000)).toBeUndefined();
    expect(window.reserve('a', limit, 0, 600_000)).toBe(600_000);
    expect(window.reserve('b', limit, 0, 0)).toBe(0);
  });
});
