//! Reading a live database into the portable model.
