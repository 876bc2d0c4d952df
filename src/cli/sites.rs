//! `hitkeep site ...` and `hitkeep seed`: sites of a stopped data directory, through the same
//! site service the API uses.

use anyhow::Context;

use super::{SeedArgs, SiteCommand, open_offline};
use crate::app::offline::Offline;
use crate::domain::site::{NewSite, Site, SiteDomain, TimeZoneName};

/// The stored site named `domain`, if any.
pub fn lookup(db: &Offline, domain: &str) -> anyhow::Result<Option<Site>> {
    let domain = SiteDomain::parse(domain)?;
    Ok(db.site_list()?.into_iter().find(|s| s.domain == domain))
}

/// Runs a `site` subcommand.
pub fn run(command: SiteCommand) -> anyhow::Result<()> {
    match command {
        SiteCommand::Add { domain, timezone, hostnames, data } => {
            let new_site = NewSite {
                domain: SiteDomain::parse(&domain)?,
                hostnames: hostnames.iter().map(|h| SiteDomain::parse(h)).collect::<Result<_, _>>()?,
                timezone: TimeZoneName::parse(&timezone)?,
            };
            let db = open_offline(&data)?;
            let site = db.sites()?.add_offline(new_site)?;
            db.checkpoint()?;
            println!("added site {} (id {}, time zone {})", site.domain, site.id.0, site.timezone.as_str());
        }
        SiteCommand::List { data } => {
            let sites = open_offline(&data)?.site_list()?;
            if sites.is_empty() {
                println!("no sites yet: add one with `hitkeep site add example.com`");
            }
            for s in sites {
                let extra = s.hostnames.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
                println!("{}\t{}\t{}\t{}", s.id.0, s.domain, s.timezone.as_str(), extra);
            }
        }
        SiteCommand::Retention { domain, days, data } => {
            anyhow::ensure!(days <= 36_500, "days must be 0-36500");
            let domain = SiteDomain::parse(&domain)?;
            let db = open_offline(&data)?;
            let service = db.sites()?;
            service.find(&domain)?.with_context(|| format!("no site {domain}"))?;
            service.set_retention(&domain, days)?;
            drop(service);
            db.checkpoint()?;
            println!(
                "{domain} keeps {}",
                if days == 0 { "events forever".to_string() } else { format!("{days} days of events") }
            );
        }
    }
    Ok(())
}

/// `hitkeep seed`: creates missing sites, then sends synthetic hits through ingest.
pub fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let db = open_offline(&args.data)?;
    let names = crate::seed::site_names(SiteDomain::parse(&args.site)?.as_str(), args.sites);
    let service = db.sites()?;
    let existing = service.list()?;
    for name in &names {
        let domain = SiteDomain::parse(name)?;
        if !existing.iter().any(|s| s.domain == domain) {
            service.add_offline(NewSite { domain, hostnames: vec![], timezone: TimeZoneName::utc() })?;
        }
    }
    drop(service);
    let started = std::time::Instant::now();
    let sent = db.seed(&names, args.events, args.days)?;
    eprintln!("stored {sent} hits in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
