package io.vladapt.vpg;

import io.vladapt.train.Plots;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Every seed's per-epoch curves in one PNG, so the spread between seeds is visible: one row per
 * transfer, captions (CIDEr-D) left and VQA accuracy right; one colour per run (TFS, VPGTrans, ...),
 * one line per seed in that colour.
 */
public final class SeedCurvesPlot {
    /** One seed's curve of one run. */
    public record Series(String run, long seed, List<Double> cider, List<Double> vqa) {}

    private static final Color[] PALETTE = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44), new Color(148, 103, 189),
            new Color(255, 127, 14), new Color(140, 86, 75)};

    private SeedCurvesPlot() {}

    /** @param rows transfer title -> its series (every run of every seed) */
    public static void write(Path png, Map<String, List<Series>> rows) throws IOException {
        List<List<XYChart>> grid = new ArrayList<>();
        for (Map.Entry<String, List<Series>> row : rows.entrySet()) {
            List<XYChart> charts = new ArrayList<>();
            for (String metric : List.of("cider", "vqa")) charts.add(chart(row.getKey(), metric, row.getValue()));
            grid.add(charts);
        }
        Plots.saveGrid(png, grid);
    }

    private static XYChart chart(String title, String metric, List<Series> series) {
        boolean cider = metric.equals("cider");
        XYChart c = new XYChartBuilder().width(720).height(420).title(shorten(title) + (cider ? ": captions" : ": VQA"))
                .xAxisTitle("epoch (VPGTrans: stage 1 = 1)").yAxisTitle(cider ? "CIDEr-D" : "VQA accuracy %").build();
        c.getStyler().setXAxisDecimalPattern("#");
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideSE);
        Map<String, Color> colours = new LinkedHashMap<>();
        for (Series s : series) {
            List<Double> ys = cider ? s.cider() : s.vqa();
            if (ys.isEmpty()) continue;
            Color col = colours.computeIfAbsent(s.run(), k -> PALETTE[colours.size() % PALETTE.length]);
            double[] x = new double[ys.size()], y = new double[ys.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = i + 1;
                y[i] = ys.get(i);
            }
            XYSeries xs = c.addSeries(shorten(s.run()) + " s" + s.seed(), x, y);
            xs.setLineColor(col);
            xs.setMarkerColor(col);
            xs.setMarker(SeriesMarkers.CIRCLE);
        }
        return c;
    }

    private static String shorten(String s) {
        return s.length() > 60 ? s.substring(0, 60) : s;
    }
}
