package dev.siteward.device.cli;

import dev.siteward.device.store.DeviceDirectory;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --dir} and {@code --pin-file}, shared by every command. */
final class DirOptions {

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "siteward-device-data",
            description = "Device directory (default ./siteward-device-data).")
    Path dir;

    @Option(names = "--pin-file", paramLabel = "FILE",
            description = "PKCS#11 token PIN (first line); default: the SITEWARD_PKCS11_PIN environment variable.")
    Path pinFile;

    DeviceDirectory directory() {
        return new DeviceDirectory(dir);
    }
}
