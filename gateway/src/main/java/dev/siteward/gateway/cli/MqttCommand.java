package dev.siteward.gateway.cli;

import dev.siteward.gateway.mqtt.MosquittoFiles;
import dev.siteward.gateway.mqtt.MqttConfiguration;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.SpiffeId;
import dev.siteward.pki.ca.SiteCa;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code siteward mqtt ...}: the MQTT broker side (docs/mqtt.md). */
@Command(name = "mqtt", mixinStandardHelpOptions = true, description = "MQTT broker set-up (docs/mqtt.md).",
        subcommands = {MqttCommand.MosquittoConfig.class})
public final class MqttCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: mosquitto-config");
    }

    @Command(name = "mosquitto-config", mixinStandardHelpOptions = true,
            description = "Write a working Mosquitto 2.0 configuration for this site into DIR: mosquitto.conf, acl, "
                    + "ca.pem, server.pem, server-key.pem (PKCS#8), crl.pem, dynamic-security.json. Issues the "
                    + "broker's server certificate from the site CA, so the gateway must be stopped.")
    static final class MosquittoConfig implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        CaCommand.KeyOptions keys;
        @Spec
        CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write (created).")
        Path out;

        @Option(names = "--port", defaultValue = "8883", paramLabel = "PORT",
                description = "Mosquitto's TLS listener port. Default: ${DEFAULT-VALUE}.")
        int port;

        @Option(names = "--bind", paramLabel = "ADDRESS", description = "Listener address (default: all).")
        String bind;

        @Option(names = "--host", paramLabel = "NAME",
                description = "Host name or address of the broker for its server certificate; repeatable "
                        + "(default: this host's name, localhost, 127.0.0.1, ::1).")
        List<String> hosts;

        @Option(names = "--user", defaultValue = "mosquitto", paramLabel = "USER",
                description = "User mosquitto runs as (its 'user' option; owns the key when run as root). "
                        + "Default: ${DEFAULT-VALUE}.")
        String user;

        @Option(names = "--plugin", defaultValue = MosquittoFiles.DEFAULT_PLUGIN, paramLabel = "FILE",
                description = "The dynamic-security plugin. Default: ${DEFAULT-VALUE}.")
        String plugin;

        @Option(names = "--service-name", defaultValue = MqttConfiguration.DEFAULT_SERVICE_NAME, paramLabel = "NAME",
                description = "The gateway's MQTT service identity (siteward.mqtt.service-names). "
                        + "Default: ${DEFAULT-VALUE}.")
        String serviceName;

        @Override
        public Integer call() throws Exception {
            if (port < 1 || port > 65535) {
                throw CliException.badInput("invalid --port " + port);
            }
            try {
                SpiffeId.requireName(serviceName, "service name");
            } catch (IllegalArgumentException e) {
                throw CliException.badInput(e.getMessage());
            }
            if (user == null || !user.matches("[a-z_][a-z0-9_-]{0,31}")) {
                throw CliException.badInput("invalid --user '" + user + "'");
            }
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw CliException.badInput("--out " + out + " is not a directory");
            }
            Set<String> names = new LinkedHashSet<>();
            if (hosts == null || hosts.isEmpty()) {
                try {
                    names.add(InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT));
                } catch (IOException e) {
                    // loopback names below still work
                }
                names.addAll(List.of("localhost", "127.0.0.1", "::1"));
            } else {
                for (String h : hosts) {
                    if (h.isBlank() || !h.matches("[A-Za-z0-9.:-]+")) {
                        throw CliException.badInput("invalid --host '" + h + "'");
                    }
                    names.add(h.toLowerCase(Locale.ROOT));
                }
            }
            if (!Files.isExecutable(Path.of(plugin)) && !Files.isReadable(Path.of(plugin))) {
                spec.commandLine().getErr().println("siteward: warning: " + plugin + " not found; install the "
                        + "mosquitto package or pass --plugin");
            }
            try (DataDir.Lock lock = dataDir.lock()) {
                if (!SiteCa.exists(dataDir.path())) {
                    throw CliException.badInput("no site CA in " + dataDir.path()
                            + ": run 'siteward serve' or 'siteward ca init' first");
                }
                try (SiteCa ca = SiteCa.open(dataDir.path(), keys.secrets(), Clock.systemUTC())) {
                    ca.unlock();
                    List<Path> files = MosquittoFiles.write(out, ca, new MosquittoFiles.Options(port, bind,
                            new ArrayList<>(names), user, plugin, List.of(serviceName)));
                    PrintWriter o = spec.commandLine().getOut();
                    for (Path f : files) {
                        o.println(f);
                    }
                    o.flush();
                } catch (PkiException e) {
                    throw e.reason().badInput() ? CliException.badInput(e.getMessage())
                            : new CliException(CliException.INTERNAL, e.getMessage(), e);
                } catch (IOException | GeneralSecurityException e) {
                    throw new CliException(CliException.INTERNAL, "cannot write " + out + ": " + e.getMessage(), e);
                }
            }
            return 0;
        }
    }
}
