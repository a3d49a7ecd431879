package dev.siteward.device.cli;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.health.HealthReport;
import dev.siteward.device.health.HealthReporter;
import dev.siteward.device.health.HeartbeatSender;
import dev.siteward.device.models.ModelStore;
import dev.siteward.device.store.DeviceDirectory;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code siteward-device heartbeat}: queue one heartbeat (the running models are read from the device directory, the
 * figures given as options) and send every queued one. Exit 0 delivered; 3 the gateway is unreachable (kept in the
 * queue, sent by the next heartbeat); 2 bad input; 4 local failure.
 */
@Command(name = "heartbeat", mixinStandardHelpOptions = true,
        description = {"Send a heartbeat with health figures and the running model versions; queued on disk while "
                + "the gateway is unreachable and sent with the next one.",
                "Exit 0 delivered (with any queued ones), 3 queued (gateway unreachable), 2 bad input, 4 local "
                        + "failure."})
final class HeartbeatCommand implements Callable<Integer> {

    @Mixin
    DirOptions options;

    @Mixin
    ClockOptions clockOptions;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--uptime", paramLabel = "SECONDS", description = "Seconds since the application started.")
    long uptime;

    @Option(names = "--inferences", paramLabel = "N", description = "Inferences since the application started.")
    long inferences;

    @Option(names = "--errors", paramLabel = "N", description = "Failed inferences since the application started.")
    long errors;

    @Option(names = "--p50", paramLabel = "MS", description = "Median inference latency, milliseconds.")
    Double p50;

    @Option(names = "--p95", paramLabel = "MS", description = "95th percentile latency, milliseconds.")
    Double p95;

    @Option(names = "--p99", paramLabel = "MS", description = "99th percentile latency, milliseconds.")
    Double p99;

    @Option(names = "--max-queued", paramLabel = "N", defaultValue = "1000",
            description = "Bound of the on-disk queue (oldest dropped first). Default: ${DEFAULT-VALUE}.")
    int maxQueued;

    @Override
    public Integer call() throws DeviceException {
        Clock clock = clockOptions.synced(options.directory());
        DeviceDirectory dir = options.directory();
        HealthReport report;
        try {
            report = new HealthReport(clock.instant(), uptime, inferences, errors, p50, p95, p99,
                    HealthReport.runningModels(new ModelStore(dir.path())));
        } catch (IllegalArgumentException e) {
            throw new DeviceException(DeviceException.Reason.BAD_INPUT, e.getMessage());
        }
        DeviceIdentity id = DeviceIdentity.load(dir, options.pinFile, clock);
        HealthReporter reporter = new HealthReporter(dir.path(), HeartbeatSender.over(new DeviceHttpClient(id, clock)),
                clock, maxQueued);
        HealthReporter.Outcome o = reporter.report(report);
        PrintWriter out = spec.commandLine().getOut();
        if (o.delivered()) {
            out.println("sent " + o.sent() + " heartbeat" + (o.sent() == 1 ? "" : "s"));
            return DeviceCommand.OK;
        }
        if (!o.lastFailure().retryable()) {
            throw o.lastFailure();
        }
        out.println("queued: " + o.queued() + " heartbeat" + (o.queued() == 1 ? "" : "s") + " wait for the gateway ("
                + o.lastFailure().getMessage() + ")");
        return DeviceCommand.GATEWAY;
    }
}
