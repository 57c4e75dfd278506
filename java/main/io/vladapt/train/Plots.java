package io.vladapt.train;

import io.vladapt.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG plots people would rather look at than read: training curves, accuracy bars. */
public final class Plots {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {}

    /** Loss and learning rate against optimizer steps, one PNG with two panels side by side. */
    public static void trainingCurves(List<Trainer.Metric> metrics, Path png) throws IOException {
        if (metrics.isEmpty()) return;
        double[] step = metrics.stream().mapToDouble(Trainer.Metric::step).toArray();
        double[] raw = metrics.stream().mapToDouble(Trainer.Metric::loss).toArray();
        XYChart loss = line("training loss", "step", "loss", lossSeries(step, raw));
        XYChart lr = line("learning rate", "step", "lr", Map.of("lr", new double[][] {step,
                metrics.stream().mapToDouble(Trainer.Metric::lr).toArray()}));
        save(png, List.of(loss, lr));
    }

    /** Per-step loss and its exponential moving average (the trend a noisy per-step curve hides). */
    public static Map<String, double[][]> lossSeries(double[] step, double[] raw) {
        double[] ema = new double[raw.length];
        double alpha = 2.0 / (Math.min(100, Math.max(2, raw.length / 20)) + 1);
        for (int i = 0; i < raw.length; i++) ema[i] = i == 0 ? raw[0] : alpha * raw[i] + (1 - alpha) * ema[i - 1];
        Map<String, double[][]> m = new java.util.LinkedHashMap<>();
        m.put("per step", new double[][] {step, raw});
        m.put("moving average", new double[][] {step, ema});
        return m;
    }

    /** A line chart; each series is {x[], y[]}. */
    public static XYChart line(String title, String x, String y, Map<String, double[][]> series) {
        XYChart c = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle(x).yAxisTitle(y).build();
        c.getStyler().setLegendVisible(series.size() > 1);
        c.getStyler().setXAxisDecimalPattern("#");
        c.getStyler().setXAxisTickMarkSpacingHint(120);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        series.forEach((name, xy) -> {
            XYSeries s = c.addSeries(name, xy[0], xy[1]);
            s.setMarker(SeriesMarkers.NONE);
        });
        return c;
    }

    /** Charts side by side in one PNG, written atomically. */
    public static void save(Path png, List<XYChart> charts) throws IOException {
        java.awt.image.BufferedImage[] imgs = new java.awt.image.BufferedImage[charts.size()];
        int w = 0, h = 0;
        for (int i = 0; i < imgs.length; i++) {
            imgs[i] = BitmapEncoder.getBufferedImage(charts.get(i));
            w += imgs[i].getWidth();
            h = Math.max(h, imgs[i].getHeight());
        }
        java.awt.image.BufferedImage all = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = all.createGraphics();
        int x = 0;
        for (java.awt.image.BufferedImage im : imgs) {
            g.drawImage(im, x, 0, null);
            x += im.getWidth();
        }
        g.dispose();
        AtomicFiles.write(png, tmp -> javax.imageio.ImageIO.write(all, "png", tmp.toFile()));
    }

    /** Rows of charts (each row side by side, rows stacked) in one PNG, written atomically. */
    public static void saveGrid(Path png, List<List<XYChart>> rows) throws IOException {
        java.awt.image.BufferedImage[][] imgs = new java.awt.image.BufferedImage[rows.size()][];
        int w = 0, h = 0;
        for (int r = 0; r < imgs.length; r++) {
            imgs[r] = new java.awt.image.BufferedImage[rows.get(r).size()];
            int rw = 0, rh = 0;
            for (int i = 0; i < imgs[r].length; i++) {
                imgs[r][i] = BitmapEncoder.getBufferedImage(rows.get(r).get(i));
                rw += imgs[r][i].getWidth();
                rh = Math.max(rh, imgs[r][i].getHeight());
            }
            w = Math.max(w, rw);
            h += rh;
        }
        java.awt.image.BufferedImage all = new java.awt.image.BufferedImage(Math.max(1, w), Math.max(1, h), java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = all.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, all.getWidth(), all.getHeight());
        int y = 0;
        for (java.awt.image.BufferedImage[] row : imgs) {
            int x = 0, rh = 0;
            for (java.awt.image.BufferedImage im : row) {
                g.drawImage(im, x, y, null);
                x += im.getWidth();
                rh = Math.max(rh, im.getHeight());
            }
            y += rh;
        }
        g.dispose();
        AtomicFiles.write(png, tmp -> javax.imageio.ImageIO.write(all, "png", tmp.toFile()));
    }
}
