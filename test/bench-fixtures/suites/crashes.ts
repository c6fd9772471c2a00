// A suite process that dies before writing any result.
process.stderr.write('crashes fixture: exiting with code 3\n');
process.exit(3);
