package dev.siteward.gateway.demo;

import java.util.Locale;
import java.util.Random;

/**
 * The demo sensors' vibration readings: eight features drawn from the demo model's reference law N(mean, std)
 * (models/demo/make_models.py), with a seeded generator. A drifting sensor's feature 2 moves up to
 * {@value #DRIFT_SIGMAS} standard deviations over its first {@value #DRIFT_RAMP_SECONDS} seconds and stays there; a
 * reading of an anomaly burst puts feature 3 six standard deviations out, which the demo detector scores near 1.
 */
public final class DemoReadings {

    /** The reference statistics of the demo model, as signed in its {@code siteward-model.yaml}. */
    static final double[] MEAN = {0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0};
    static final double[] STD = {1.0, 1.0, 2.0, 2.0, 0.5, 0.5, 1.5, 1.5};
    static final double DRIFT_SIGMAS = 1.2;
    static final double DRIFT_RAMP_SECONDS = 3.0;
    static final int DRIFT_FEATURE = 2;
    static final int ANOMALY_FEATURE = 3;
    static final double ANOMALY_SIGMAS = 6.0;

    /** How a sensor behaves. */
    public enum Kind { NORMAL, DRIFTING, ANOMALY }

    private final Random random;
    private final Kind kind;

    public DemoReadings(Kind kind, long seed) {
        this.kind = kind;
        this.random = new Random(seed);
    }

    /** The reading at {@code seconds} since the sensor started streaming; {@code burst}: part of an anomaly burst. */
    public double[] next(double seconds, boolean burst) {
        double[] x = new double[MEAN.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = MEAN[i] + STD[i] * random.nextGaussian();
        }
        if (kind == Kind.DRIFTING) {
            x[DRIFT_FEATURE] += DRIFT_SIGMAS * STD[DRIFT_FEATURE] * Math.min(1.0, seconds / DRIFT_RAMP_SECONDS);
        }
        if (kind == Kind.ANOMALY && burst) {
            x[ANOMALY_FEATURE] = MEAN[ANOMALY_FEATURE] + ANOMALY_SIGMAS * STD[ANOMALY_FEATURE];
        }
        return x;
    }

    /** One line for {@code siteward-device sense}: the values separated by commas. */
    public static String line(double[] x) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < x.length; i++) {
            b.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.4f", x[i]));
        }
        return b.toString();
    }
}
