package dev.siteward.gateway.cli;

import dev.siteward.gateway.devices.Labels;
import dev.siteward.pki.SpiffeId;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code siteward token create}: one-time enrollment tokens. */
@Command(name = "token", mixinStandardHelpOptions = true, description = "One-time enrollment tokens.",
        subcommands = {TokenCommand.Create.class})
public final class TokenCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: create");
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a one-time enrollment token bound to a device id; prints only the token.")
    static final class Create implements Callable<Integer> {
        @Mixin
        DataDir dataDir;
        @Mixin
        CaCommand.KeyOptions keys;
        @Spec
        CommandSpec spec;

        @Option(names = "--device-id", required = true, paramLabel = "ID", description = "The device that may enroll.")
        String deviceId;

        @Option(names = "--labels", paramLabel = "k=v,...", description = "Labels the device gets at enrollment.")
        String labels;

        @Option(names = "--ttl", defaultValue = "15m", paramLabel = "DURATION",
                description = "How long the token is valid. Default: ${DEFAULT-VALUE}.")
        String ttl;

        @Override
        public Integer call() throws Exception {
            SpiffeId.requireName(deviceId, "device id");
            var l = Labels.parse(labels);
            var d = DurationText.parse(ttl);
            try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
                spec.commandLine().getOut().println(ops.createToken(deviceId, l, d));
                return 0;
            }
        }
    }
}
