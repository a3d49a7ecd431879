package dev.siteward.gateway.cli;

import dev.siteward.gateway.lifecycle.ExpiryWatch;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.ca.CaSecrets;
import dev.siteward.pki.ca.SiteCa;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code siteward status}: the expiry watch. Exit 0 when nothing needs attention, 1 when a certificate expires within
 * the window, has expired, or a device's renewal is overdue; 2 bad input; 3 the running gateway did not answer.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Certificates that keep the site running and when they expire: CA root and issuing "
                + "generations, the gateway's server certificate, admins, publishers (with --publisher-data-dir), and "
                + "devices whose certificates expire soon or whose renewal is overdue. Exit 1 when anything needs "
                + "attention.")
public final class StatusCommand implements Callable<Integer> {

    @Mixin
    DataDir dataDir;
    @Mixin
    CaCommand.KeyOptions keys;
    @Spec
    CommandSpec spec;

    @Option(names = "--window", defaultValue = "7d", paramLabel = "DURATION",
            description = "Report certificates expiring within this time (CA certificates: at least 90d). "
                    + "Default: ${DEFAULT-VALUE}.")
    String window;

    @Option(names = "--publisher-data-dir", paramLabel = "DIR",
            description = "Also report a publisher CA (its root, issuing CA and publisher certificates).")
    Path publisherDataDir;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Duration w = DurationText.parse(window);
        if (publisherDataDir != null && !SiteCa.exists(publisherDataDir)) {
            throw CliException.badInput("no CA in " + publisherDataDir);
        }
        ExpiryWatch.Report report;
        try (GatewayOperations ops = GatewayOperations.open(dataDir, keys)) {
            report = ops.status(w);
        }
        if (publisherDataDir != null) {
            List<ExpiryWatch.Entry> all = new ArrayList<>(report.entries());
            try (SiteCa pub = SiteCa.open(publisherDataDir, CaSecrets.none(), Clock.systemUTC())) {
                all.addAll(ExpiryWatch.caEntries(pub, "publisher-", report.time(), w));
                all.addAll(ExpiryWatch.publisherEntries(pub, report.time(), w));
            } catch (PkiException e) {
                throw CliException.badInput("cannot read the publisher CA in " + publisherDataDir + ": "
                        + e.getMessage());
            }
            int attention = (int) all.stream().filter(ExpiryWatch.Entry::needsAttention).count();
            report = new ExpiryWatch.Report(report.time(), report.window(), all, attention);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("time", report.time());
            doc.put("window", report.window());
            doc.put("attention", report.attention());
            doc.put("entries", report.entries());
            out.println(DeviceCommand.JSON.writeValueAsString(doc));
        } else {
            out.printf("%-18s %-36s %-16s %-22s %s%n", "KIND", "NAME", "STATE", "EXPIRES", "DETAIL");
            for (ExpiryWatch.Entry e : report.entries()) {
                out.printf("%-18s %-36s %-16s %-22s %s%n", e.kind(), e.name(), e.state(),
                        e.notAfter() == null ? "-" : e.notAfter().toString(), e.detail());
            }
            out.println(report.attention() == 0 ? "all certificates ok (window " + window + ")"
                    : report.attention() + " certificate(s) need attention (window " + window + ")");
        }
        out.flush();
        return report.attention() == 0 ? CliException.OK : CliException.CHECK_FAILED;
    }
}
