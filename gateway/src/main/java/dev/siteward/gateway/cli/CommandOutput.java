package dev.siteward.gateway.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * A byte stream of UTF-8 text onto a command's output writer ({@code spec.commandLine().getOut()}), so that a
 * streamed export goes where the command's other output goes (a caller running commands in-process captures it).
 * Bytes are decoded a whole line at a time ({@code '\n'} never occurs inside a UTF-8 multi-byte sequence); what
 * follows the last newline is decoded on {@link #close}. Closing flushes but never closes the writer.
 */
final class CommandOutput extends OutputStream {

    private final PrintWriter writer;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    CommandOutput(PrintWriter writer) {
        this.writer = writer;
    }

    @Override
    public void write(int b) {
        line.write(b);
        if (b == '\n') {
            drain();
        }
    }

    @Override
    public void write(byte[] b, int off, int len) {
        int start = off;
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                line.write(b, start, i + 1 - start);
                drain();
                start = i + 1;
            }
        }
        line.write(b, start, off + len - start);
    }

    @Override
    public void flush() {
        writer.flush();
    }

    @Override
    public void close() {
        drain();
        writer.flush();
    }

    private void drain() {
        if (line.size() > 0) {
            writer.write(line.toString(StandardCharsets.UTF_8));
            line.reset();
        }
    }
}
