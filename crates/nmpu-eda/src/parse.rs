//! Figures out of the tools' logs. Each parser reads one kind of output and is tested on
//! a log captured from a real run (`tests/fixtures/`).

/// The integer after `key` on the first line containing it (`Number of cells: 6677`,
/// `(length=68)`).
pub fn number_after(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.contains(key))?;
    let rest = &line[line.find(key)? + key.len()..];
    let digits: String = rest
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// The sum of the counts of cells whose type matches `pred` in a Yosys `stat` listing
/// (internal `$...` cells and iCE40 `SB_...` cells).
pub fn count_cells(stat: &str, pred: impl Fn(&str) -> bool) -> u64 {
    stat.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (name, n) = (it.next()?, it.next()?);
            (name.starts_with('$') || name.starts_with("SB_"))
                .then_some(())
                .filter(|_| pred(name))
                .and_then(|_| n.parse::<u64>().ok())
        })
        .sum()
}

/// The number after `key` on the last line containing it (ABC's `Delay =  5825.73 ps`).
pub fn float_after_last(text: &str, key: &str) -> Option<f64> {
    let line = text.lines().rev().find(|l| l.contains(key))?;
    let rest = line[line.find(key)? + key.len()..].trim_start();
    let num: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().ok()
}

/// The chip area `stat -liberty` prints last (`Chip area for module '\nmpu': 306073.000000`).
pub fn chip_area(stat: &str) -> Option<f64> {
    let line = stat.lines().rev().find(|l| l.contains("Chip area"))?;
    line.rsplit(':').next()?.trim().parse().ok()
}

/// nextpnr's clock frequency after routing: the last `Max frequency for clock` report.
pub fn nextpnr_fmax(log: &str) -> Option<f64> {
    log.lines()
        .rev()
        .filter(|l| l.contains("Max frequency for clock"))
        .find_map(|l| {
            let after = &l[l.find("':")? + 2..];
            after.split_whitespace().next()?.parse::<f64>().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values read off the captured logs by eye (tests/fixtures/README).
    const CELLS: &str = include_str!("../tests/fixtures/cells.txt");
    const CMOS: &str = include_str!("../tests/fixtures/cmos.txt");
    const DEPTH: &str = include_str!("../tests/fixtures/depth.txt");
    const ABC: &str = include_str!("../tests/fixtures/liberty_abc.txt");
    const LIBERTY: &str = include_str!("../tests/fixtures/liberty.txt");
    const ICE40: &str = include_str!("../tests/fixtures/ice40.txt");
    const NEXTPNR: &str = include_str!("../tests/fixtures/nextpnr.log");

    #[test]
    fn yosys_stat_gives_cells_and_flip_flops() {
        assert_eq!(number_after(CELLS, "Number of cells:"), Some(6677));
        // $_DFFE_PP_ 608, $_SDFFCE_* 14 + 124 + 28, $_SDFFE_PP0P_ 6.
        assert_eq!(count_cells(CELLS, |n| n.contains("DFF")), 780);
        assert_eq!(count_cells(CELLS, |n| n == "$_XOR_"), 1211);
    }

    #[test]
    fn cmos_depth_area_and_delay() {
        assert_eq!(
            number_after(CMOS, "Estimated number of transistors:"),
            Some(61544)
        );
        assert_eq!(number_after(DEPTH, "(length="), Some(68));
        assert_eq!(chip_area(LIBERTY), Some(306073.0));
        // The last of ABC's stime lines is the buffered, sized netlist's.
        assert_eq!(float_after_last(ABC, "Delay ="), Some(5825.73));
    }

    #[test]
    fn ice40_stat_and_nextpnr() {
        assert_eq!(count_cells(ICE40, |n| n == "SB_LUT4"), 453);
        assert_eq!(count_cells(ICE40, |n| n == "SB_MAC16"), 6);
        assert_eq!(
            count_cells(ICE40, |n| n.starts_with("SB_DFF")),
            97 + 544 + 130 + 42
        );
        // Two reports (after placement, after routing): the last counts.
        assert_eq!(nextpnr_fmax(NEXTPNR), Some(28.57));
    }

    #[test]
    fn missing_figures_are_none() {
        assert_eq!(number_after("nothing here", "Number of cells:"), None);
        assert_eq!(chip_area(""), None);
        assert_eq!(float_after_last("Delay = n/a", "Delay ="), None);
        assert_eq!(nextpnr_fmax("Info: Program finished normally."), None);
    }
}
