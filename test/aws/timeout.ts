// Servers on loopback: a moto suite's steps take seconds, not milliseconds.
jest.setTimeout(60_000);
